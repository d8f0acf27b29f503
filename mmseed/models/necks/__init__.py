from .mlp_neck import MLPNeck
from .simclrv2_neck import SimCLRv2Neck
from .swav_projection_neck import SwAVProjectionNeck

__all__ = ['MLPNeck', 'SimCLRv2Neck', 'SwAVProjectionNeck']
