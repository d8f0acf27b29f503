from .loading import CorruptImageError, SafeLoadImageFromFile

__all__ = ['CorruptImageError', 'SafeLoadImageFromFile']
