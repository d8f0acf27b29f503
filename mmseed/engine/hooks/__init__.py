from .checkpoint_hook import CheckpointHook
from .epoch_seed_hook import EpochSeedHook
from .gradient_hooks import FreezeParametersHook, PerParameterGradClipHook
from .memory_bank_hook import MemoryBankHook
from .non_finite_loss_hook import (NonFiniteLossError, NonFiniteLossHook,
                                   volatile_state)
from .run_info_hook import RunInfoHook
from .weight_decay_hook import CosineWeightDecayHook

__all__ = [
    'CheckpointHook', 'CosineWeightDecayHook', 'EpochSeedHook', 'FreezeParametersHook',
    'MemoryBankHook', 'PerParameterGradClipHook', 'NonFiniteLossError',
    'NonFiniteLossHook', 'RunInfoHook', 'volatile_state'
]
