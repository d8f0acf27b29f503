from .crd import CRD
from .dogo import DoGo
from .esvit import EsViT
from .mocov2 import MoCoV2
from .seed import SEED
from .simclr import SimCLR
from .simclrv2 import SimCLRv2, SimCLRv2Distiller

__all__ = ['CRD', 'DoGo', 'EsViT', 'MoCoV2', 'SEED', 'SimCLR', 'SimCLRv2', 'SimCLRv2Distiller']
