from .checkpoint_formats import (convert_to_teacher_state_dict, detect_format,
                                 load_teacher_weights)
from .frozen_teacher import FrozenTeacher

__all__ = [
    'FrozenTeacher', 'convert_to_teacher_state_dict', 'detect_format',
    'load_teacher_weights'
]
