"""A cosine schedule of the weight decay (DINO, Caron et al., 2021:
``weight_decay`` 0.04 -> ``weight_decay_end`` 0.4, per iteration)."""
import math

from mmengine.hooks import Hook

from mmseed.errors import ConfigError
from mmseed.registry import HOOKS
from .gradient_hooks import _optimizers

__all__ = ['CosineWeightDecayHook']


@HOOKS.register_module()
class CosineWeightDecayHook(Hook):
    """Move every decayed parameter group's weight decay from its configured
    value to ``end`` on a cosine over all iterations; groups without decay
    (norms, biases: ``paramwise_cfg``) keep 0.

    mmengine's ``CosineAnnealingParamScheduler(param_name='weight_decay')``
    would move those groups to ``end`` too.

    Args:
        end (float): Weight decay at the last iteration. Defaults to 0.4
            (DINO / EsViT ``--weight_decay_end``).
    """

    priority = 'NORMAL'

    def __init__(self, end: float = 0.4) -> None:
        if end < 0:
            raise ConfigError(f'CosineWeightDecayHook needs end >= 0, got '
                              f'{end}')
        self.end = end

    def before_train(self, runner) -> None:
        # Each group's configured decay, kept in the group (and so in the
        # optimizer's checkpoint) as mmengine keeps ``initial_lr``.
        for opt in _optimizers(runner):
            for group in opt.param_groups:
                group.setdefault('initial_weight_decay', group['weight_decay'])

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        progress = min(runner.iter / max(runner.max_iters, 1), 1.)
        cosine = (1 + math.cos(math.pi * progress)) / 2
        for opt in _optimizers(runner):
            for group in opt.param_groups:
                base = group['initial_weight_decay']
                if base > 0:
                    group['weight_decay'] = self.end + (base - self.end) * \
                        cosine
