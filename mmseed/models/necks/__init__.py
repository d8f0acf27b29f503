from .mlp_neck import MLPNeck
from .swav_projection_neck import SwAVProjectionNeck

__all__ = ['MLPNeck', 'SwAVProjectionNeck']
