"""Soft-label distillation against a hand-computed value."""
import math

import pytest
import torch

from mmseed.models.losses import soft_label_distillation


def test_value_by_hand():
    s = torch.tensor([[1., 0., -1.], [0.5, 0.5, 2.]])
    t = torch.tensor([[2., 1., 0.], [0., 0., 0.]])
    temp = 2.
    expected = 0.
    for row_s, row_t in zip(s.tolist(), t.tolist()):
        zt = sum(math.exp(v / temp) for v in row_t)
        zs = sum(math.exp(v / temp) for v in row_s)
        expected -= sum(math.exp(b / temp) / zt * (a / temp - math.log(zs))
                        for a, b in zip(row_s, row_t))
    expected /= 2
    got = soft_label_distillation(s, t, temp)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    assert soft_label_distillation(s, t, temp, t_squared=True).item() == \
        pytest.approx(4 * expected, rel=1e-6)


def test_gradient_reaches_only_the_student():
    s = torch.randn(4, 5, requires_grad=True)
    t = torch.randn(4, 5, requires_grad=True)
    soft_label_distillation(s, t).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_minimum_at_the_teacher():
    t = torch.randn(3, 4)
    s = t.clone().requires_grad_()
    soft_label_distillation(s, t).backward()
    torch.testing.assert_close(s.grad, torch.zeros_like(s))


def test_shape_mismatch():
    with pytest.raises(ValueError, match='differ'):
        soft_label_distillation(torch.zeros(2, 3), torch.zeros(2, 4))
