from .epoch_seed_hook import EpochSeedHook
from .non_finite_loss_hook import (NonFiniteLossError, NonFiniteLossHook,
                                   volatile_state)

__all__ = [
    'EpochSeedHook', 'NonFiniteLossError', 'NonFiniteLossHook',
    'volatile_state'
]
