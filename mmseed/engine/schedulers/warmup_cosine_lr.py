"""Linear warm-up from a fixed lr, then cosine decay counted from step 0."""
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import _ParamScheduler

from mmseed.errors import ConfigError
from mmseed.registry import PARAM_SCHEDULERS

__all__ = ['WarmupCosineLR']


@PARAM_SCHEDULERS.register_module()
class WarmupCosineLR(LRSchedulerMixin, _ParamScheduler):
    """``lr(t)`` for a peak ``lr_0`` (the optimizer's, after batch scaling):

    * ``t < warmup``: ``warmup_start_lr + (lr_0 - warmup_start_lr) * t /
      warmup`` (linear, from an lr that does not scale with the batch);
    * ``t >= warmup``: ``lr_0 * (1 + cos(pi * t / T_max)) / 2``, the cosine
      over all ``T_max`` steps from step 0, not shifted by the warm-up.

    This is the MoCo-style rule of the official SEED code (jacobswan1/SEED
    ``tools/utils.py:adjust_learning_rate``: 5 warm-up epochs from ``--lr``
    0.03 to 0.03 x batch / 256, cosine over all epochs, set once per epoch)
    with mmengine's ``auto_scale_lr`` doing the batch scaling. mmengine's
    ``LinearLR`` + ``CosineAnnealingLR`` cannot state it: their warm-up
    starts from a fraction of the scaled lr, and a cosine that begins after
    the warm-up is counted from there.

    Args:
        optimizer (Optimizer | OptimWrapper): The wrapped optimizer.
        warmup (int): Warm-up steps (epochs with ``by_epoch``). 0 disables
            the warm-up.
        warmup_start_lr (float): The lr at step 0.
        T_max (int): Steps of the cosine (the whole run).
        begin (int): First step the scheduler acts on. Defaults to 0.
        end (int): Step after the last. Defaults to ``T_max``.
        by_epoch (bool): Steps are epochs. Defaults to True.
        last_step (int): Defaults to -1.
        verbose (bool): Defaults to False.
    """

    def __init__(self,
                 optimizer,
                 warmup: int,
                 warmup_start_lr: float,
                 T_max: int,
                 begin: int = 0,
                 end: int = None,
                 by_epoch: bool = True,
                 last_step: int = -1,
                 verbose: bool = False) -> None:
        if T_max < 1 or not 0 <= warmup < T_max:
            raise ConfigError(
                f'WarmupCosineLR needs T_max >= 1 and 0 <= warmup < T_max, '
                f'got warmup={warmup}, T_max={T_max}')
        if warmup_start_lr < 0:
            raise ConfigError('WarmupCosineLR warmup_start_lr must be >= 0, '
                              f'got {warmup_start_lr}')
        self.warmup = warmup
        self.warmup_start_lr = warmup_start_lr
        self.T_max = T_max
        super().__init__(
            optimizer,
            begin=begin,
            end=T_max if end is None else end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose)

    def lr_at(self, step: int, peak: float) -> float:
        """The lr at ``step`` (from ``begin``) for a peak lr ``peak``."""
        if step < self.warmup:
            return self.warmup_start_lr + (
                peak - self.warmup_start_lr) * step / self.warmup
        return peak * 0.5 * (1. + math.cos(math.pi * step / self.T_max))

    def _get_value(self) -> list:
        step = self.last_step - self.begin
        return [self.lr_at(step, peak) for peak in self.base_values]
