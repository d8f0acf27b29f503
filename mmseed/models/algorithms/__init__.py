from .dogo import DoGo
from .mocov2 import MoCoV2
from .seed import SEED
from .simclr import SimCLR

__all__ = ['DoGo', 'MoCoV2', 'SEED', 'SimCLR']
