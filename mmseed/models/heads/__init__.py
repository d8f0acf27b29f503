from .dino_head import DINOHead, RegionMatchingHead, WeightNormLinear

__all__ = ['DINOHead', 'RegionMatchingHead', 'WeightNormLinear']
