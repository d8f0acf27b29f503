"""mmseed: self-supervised distillation of small vision models."""
from .compat import apply_patches
from .version import __version__

apply_patches()

__all__ = ['__version__']
