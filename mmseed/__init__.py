"""mmseed: self-supervised distillation of small vision models.

Importing it applies :mod:`mmseed.compat`'s fixes for the pinned OpenMMLab
stack (each only where the installed package has the bug).
"""
from .compat import apply_patches
from .version import __version__

apply_patches()

__all__ = ['__version__']
