from .ema import cosine_momentum, ema_update_

__all__ = ['cosine_momentum', 'ema_update_']
