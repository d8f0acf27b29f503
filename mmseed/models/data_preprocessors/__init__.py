from .multiview_augment import MultiViewAugmentPreprocessor
from .view_augment import ViewAugment, ViewParams

__all__ = ['MultiViewAugmentPreprocessor', 'ViewAugment', 'ViewParams']
