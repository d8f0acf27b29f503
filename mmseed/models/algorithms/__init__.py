from .mocov2 import MoCoV2
from .seed import SEED

__all__ = ['MoCoV2', 'SEED']
