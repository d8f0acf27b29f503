from .checkpoint import ALLOW_PICKLE_ENV, CheckpointError, load_checkpoint_file
from .setup_env import register_all_modules

__all__ = [
    'ALLOW_PICKLE_ENV', 'CheckpointError', 'load_checkpoint_file',
    'register_all_modules'
]
