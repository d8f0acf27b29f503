from .amp_optim_wrapper import AmpOptimWrapper
from .lars import LARS
from .multi_optim_wrapper_constructor import MultiOptimWrapperConstructor

__all__ = ['AmpOptimWrapper', 'LARS', 'MultiOptimWrapperConstructor']
