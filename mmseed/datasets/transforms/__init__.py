from .loading import CorruptImageError, SafeLoadImageFromFile
from .multiview_groups import MultiViewGroups

__all__ = ['CorruptImageError', 'SafeLoadImageFromFile', 'MultiViewGroups']
