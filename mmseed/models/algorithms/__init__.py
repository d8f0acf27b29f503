from .crd import CRD
from .dogo import DoGo
from .mocov2 import MoCoV2
from .seed import SEED
from .simclr import SimCLR
from .simclrv2 import SimCLRv2, SimCLRv2Distiller

__all__ = ['CRD', 'DoGo', 'MoCoV2', 'SEED', 'SimCLR', 'SimCLRv2', 'SimCLRv2Distiller']
