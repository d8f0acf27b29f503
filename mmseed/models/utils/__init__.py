from .ema import cosine_momentum, ema_update_
from .views import (BLUR_SIGMA, CROP_RATIO, GRAY_WEIGHTS_RGB,
                    SOLARIZE_THRESHOLD, ViewGroup, parse_views, split_views,
                    view_counts)

__all__ = [
    'cosine_momentum', 'ema_update_', 'BLUR_SIGMA', 'CROP_RATIO',
    'GRAY_WEIGHTS_RGB', 'SOLARIZE_THRESHOLD', 'ViewGroup', 'parse_views',
    'split_views', 'view_counts'
]
