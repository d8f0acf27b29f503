from .seed import SEED

__all__ = ['SEED']
