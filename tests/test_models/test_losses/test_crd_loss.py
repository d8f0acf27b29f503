"""CRD's NCE loss against values computed by hand."""
import math

import pytest
import torch

from mmseed.models.losses import contrast_scores, crd_nce_loss


def test_scores_are_exp_of_dot_over_temperature():
    anchor = torch.tensor([[1., 0.], [0., 1.]])
    rows = torch.tensor([[[1., 0.], [0., 1.], [0.6, 0.8]],
                         [[0., 1.], [1., 0.], [-1., 0.]]])
    scores = contrast_scores(anchor, rows, temperature=0.5)
    expected = torch.tensor([[math.exp(2), 1., math.exp(1.2)],
                             [math.exp(2), 1., 1.]])
    torch.testing.assert_close(scores, expected)


def test_nce_loss_by_hand():
    # B = 1, K = 2, N = 4: noise term K/N = 0.5.
    probs = torch.tensor([[1.5, 0.5, 0.25]])
    loss = crd_nce_loss(probs, num_samples=4)
    eps = 1e-7
    expected = -(math.log(1.5 / (2 + eps)) + math.log(0.5 / (1 + eps))
                 + math.log(0.5 / (0.75 + eps)))
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # Averaged over the batch: two copies give the same value.
    assert crd_nce_loss(probs.repeat(2, 1), 4).item() == pytest.approx(
        expected, rel=1e-6)


def test_fp32_under_autocast():
    probs = torch.rand(3, 5, dtype=torch.bfloat16) + 0.1
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = crd_nce_loss(probs, 100)
        scores = contrast_scores(torch.ones(2, 4, dtype=torch.bfloat16),
                                 torch.ones(2, 3, 4, dtype=torch.bfloat16),
                                 0.07)
    assert loss.dtype == scores.dtype == torch.float32
    assert torch.isfinite(scores).all()  # exp(4 / 0.07) ~ 7e24


def test_shape_errors():
    with pytest.raises(ValueError, match=r'\(B, K \+ 1, D\)'):
        contrast_scores(torch.ones(2, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match='K >= 1'):
        crd_nce_loss(torch.ones(2, 1), 10)
