"""mmseed.LARS: mmpretrain's LARS unchanged by default, google-research/
simclr's trust ratio with trust_norm='update'."""
import copy

import pytest
import torch
from mmpretrain.engine.optimizers import LARS as MMPretrainLARS

from mmseed.engine.optimizers import LARS


def params(seed=0):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(5, 3, generator=gen).requires_grad_()
    b = torch.randn(5, generator=gen).requires_grad_()
    return w, b


def grads(step):
    gen = torch.Generator().manual_seed(100 + step)
    return torch.randn(5, 3, generator=gen), torch.randn(5, generator=gen)


def run(optimizer_cls, steps=3, **kwargs):
    w, b = params()
    opt = optimizer_cls([dict(params=[w]),
                         dict(params=[b], lars_exclude=True,
                              weight_decay=0.)],
                        lr=0.5, momentum=0.9, weight_decay=1e-2, **kwargs)
    for step in range(steps):
        w.grad, b.grad = grads(step)
        opt.step()
    return w.detach(), b.detach()


def test_default_is_mmpretrain_lars_bit_for_bit():
    for ours, theirs in zip(run(LARS), run(MMPretrainLARS)):
        assert torch.equal(ours, theirs)


def test_update_norm_trust_ratio_by_hand():
    """tf2/lars_optimizer.py: g += wd * w; trust = eta |w| / |g|;
    v = m v + lr trust g; w -= v. Excluded: plain momentum SGD."""
    w, b = params()
    w, b = w.detach().clone(), b.detach().clone()
    vw, vb = torch.zeros_like(w), torch.zeros_like(b)
    for step in range(3):
        gw, gb = grads(step)
        gw = gw + 1e-2 * w
        trust = 1e-3 * w.norm() / gw.norm()
        vw = 0.9 * vw + 0.5 * trust * gw
        vb = 0.9 * vb + 0.5 * gb
        w, b = w - vw, b - vb
    ours_w, ours_b = run(LARS, trust_norm='update')
    torch.testing.assert_close(ours_w, w)
    torch.testing.assert_close(ours_b, b)
    # And it is not the 'sum' rule.
    assert not torch.allclose(run(LARS)[0], w)


def test_zero_weights_take_trust_one():
    w = torch.zeros(3, requires_grad=True)
    opt = LARS([w], lr=0.1, trust_norm='update')
    w.grad = torch.ones(3)
    opt.step()
    torch.testing.assert_close(w.detach(), torch.full((3, ), -0.1))


def test_bad_trust_norm():
    with pytest.raises(ValueError, match="'sum' or 'update'"):
        LARS([torch.zeros(1, requires_grad=True)], lr=0.1, trust_norm='x')


def test_state_dict_round_trip():
    w, _ = params()
    opt = LARS([w], lr=0.1, momentum=0.9, trust_norm='update')
    w.grad = torch.ones_like(w)
    opt.step()
    other = LARS([copy.deepcopy(w)], lr=0.1, momentum=0.9,
                 trust_norm='update')
    other.load_state_dict(opt.state_dict())
    assert torch.equal(other.state_dict()['state'][0]['momentum_buffer'],
                       opt.state_dict()['state'][0]['momentum_buffer'])
