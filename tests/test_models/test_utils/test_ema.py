"""The fused EMA update and the cosine momentum schedule."""
import copy
import math

import pytest
import torch
from mmengine.model import ExponentialMovingAverage
from torch import nn

from mmseed.models.utils import cosine_momentum, ema_update_


def encoder():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 6 * 6, 2))


def test_update_equals_mmengine_ema_bit_for_bit():
    torch.manual_seed(0)
    online = encoder()
    ours = copy.deepcopy(online)
    theirs = ExponentialMovingAverage(online, momentum=0.01,
                                      update_buffers=False)
    for step in range(3):
        with torch.no_grad():
            for p in online.parameters():
                p.add_(torch.randn_like(p))
            online[1].running_mean.add_(1.)
        ema_update_(ours, online, 0.01)
        theirs.update_parameters(online)
        if step == 0:  # mmengine's first call copies; compare from step 1
            ours.load_state_dict(theirs.module.state_dict())
    for a, b in zip(ours.parameters(), theirs.module.parameters()):
        assert torch.equal(a, b)
    # Buffers are copied from the online encoder.
    assert torch.equal(ours[1].running_mean, online[1].running_mean)


def test_update_rule_and_buffers_left_alone_on_request():
    online, ema = encoder(), encoder()
    before = [p.clone() for p in ema.parameters()]
    stats = ema[1].running_mean.clone()
    online[1].running_mean.fill_(5.)
    ema_update_(ema, online, 0.25, copy_buffers=False)
    for old, new, x in zip(before, ema.parameters(), online.parameters()):
        torch.testing.assert_close(new, old + 0.25 * (x - old))
    assert torch.equal(ema[1].running_mean, stats)


def test_encoders_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match='the encoders differ'):
        ema_update_(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2),
                                                   nn.Linear(2, 2)), 0.1)


def test_cosine_momentum_from_0996_to_1():
    """DINO/EsViT: teacher momentum 0.996 -> 1 (ema momentum .004 -> 0)."""
    assert cosine_momentum(0, 100, 0.004) == pytest.approx(0.004)
    assert cosine_momentum(50, 100, 0.004) == pytest.approx(0.002)
    assert cosine_momentum(100, 100, 0.004) == 0.
    assert cosine_momentum(150, 100, 0.004) == 0.  # clamped after the end
    step = 30
    expected = 0.004 * (math.cos(math.pi * step / 100) + 1) / 2
    assert cosine_momentum(step, 100, 0.004) == pytest.approx(expected)
    with pytest.raises(ValueError):
        cosine_momentum(0, 0, 0.004)
