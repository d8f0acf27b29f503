from .swav_projection_neck import SwAVProjectionNeck

__all__ = ['SwAVProjectionNeck']
