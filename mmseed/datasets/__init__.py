from .ann_file import (AnnotationFileError, check_ann_file,
                       find_missing_images, parse_ann_lines, read_ann_file)
from .in_memory import InMemoryImageDataset
from .transforms import CorruptImageError, SafeLoadImageFromFile

__all__ = [
    'AnnotationFileError', 'check_ann_file', 'find_missing_images',
    'parse_ann_lines', 'read_ann_file', 'CorruptImageError',
    'SafeLoadImageFromFile', 'InMemoryImageDataset'
]
