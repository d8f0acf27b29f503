"""WarmupCosineLR gives the official SEED learning rates."""
import math

import pytest
import torch

from mmseed.engine.schedulers import WarmupCosineLR
from mmseed.errors import ConfigError


def official_lr(epoch, batch, lr=0.03, warmup_epochs=5, epochs=200):
    """jacobswan1/SEED tools/utils.py adjust_learning_rate, with
    lr_mult = batch / 256 (main.py, distributed) and --cos."""
    mult = batch / 256
    if epoch < warmup_epochs:
        return lr + (lr * mult - lr) / warmup_epochs * epoch
    return lr * mult * 0.5 * (1. + math.cos(math.pi * epoch / epochs))


@pytest.mark.parametrize('batch', [256, 1024])
def test_epochs_0_4_5_and_last_match_the_official_rule(batch):
    # mmengine's auto_scale_lr (base_batch_size 256) scales the config's lr.
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.03 * batch / 256)
    scheduler = WarmupCosineLR(optimizer, warmup=5, warmup_start_lr=0.03,
                               T_max=200)
    lrs = []
    for _ in range(200):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    for epoch in (0, 4, 5, 199):
        assert lrs[epoch] == pytest.approx(official_lr(epoch, batch),
                                           rel=1e-12), epoch
    assert lrs[0] == pytest.approx(0.03)
    assert all(a == pytest.approx(official_lr(e, batch), rel=1e-12)
               for e, a in enumerate(lrs))


def test_bad_arguments_are_config_errors():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
    with pytest.raises(ConfigError, match='0 <= warmup < T_max'):
        WarmupCosineLR(optimizer, warmup=10, warmup_start_lr=0.1, T_max=10)
    with pytest.raises(ConfigError, match='warmup_start_lr must be >= 0'):
        WarmupCosineLR(optimizer, warmup=1, warmup_start_lr=-1, T_max=10)
