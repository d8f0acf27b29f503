from .checkpoint_hook import CheckpointHook
from .epoch_seed_hook import EpochSeedHook
from .memory_bank_hook import MemoryBankHook
from .non_finite_loss_hook import (NonFiniteLossError, NonFiniteLossHook,
                                   volatile_state)
from .run_info_hook import RunInfoHook

__all__ = [
    'CheckpointHook', 'EpochSeedHook', 'MemoryBankHook', 'NonFiniteLossError',
    'NonFiniteLossHook', 'RunInfoHook', 'volatile_state'
]
