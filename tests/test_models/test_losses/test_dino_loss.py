"""DINO's view loss and EsViT's region-matching loss against hand-computed
values."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseed.models.losses import (dino_targets, dino_view_loss,
                                  region_matching_loss)


def test_targets_are_centred_sharpened_softmax():
    t = torch.tensor([[1., 2., 3.]])
    center = torch.tensor([[0., 1., 0.]])
    q = dino_targets(t, center, temperature=0.5)
    expected = F.softmax(torch.tensor([[2., 2., 6.]]), dim=-1)
    torch.testing.assert_close(q, expected)


def ce(q, s, temp):
    return -(q * F.log_softmax(s / temp, dim=-1)).sum(-1).mean()


def test_view_loss_pairs_skip_the_same_crop():
    torch.manual_seed(0)
    student = [torch.randn(4, 5) for _ in range(3)]  # 2 global + 1 local
    targets = [F.softmax(torch.randn(4, 5), -1) for _ in range(2)]
    loss = dino_view_loss(student, targets, student_temp=0.1)
    # Pairs (0, 1), (0, 2), (1, 0), (1, 2).
    expected = (ce(targets[0], student[1], .1) + ce(targets[0], student[2], .1)
                + ce(targets[1], student[0], .1)
                + ce(targets[1], student[2], .1)) / 4
    torch.testing.assert_close(loss, expected)


def test_view_loss_by_hand():
    # One pair: teacher crop 0 against student crop 1, K = 2, T = 1.
    q = [torch.tensor([[0.25, 0.75]]), torch.tensor([[1., 0.]])]
    s = [torch.zeros(1, 2), torch.tensor([[0., math.log(3.)]])]
    # Pair (0, 1): -(0.25 log 0.25 + 0.75 log 0.75); pair (1, 0): log 2.
    expected = (-(0.25 * math.log(.25) + .75 * math.log(.75))
                + math.log(2)) / 2
    assert dino_view_loss(s, q, 1.).item() == pytest.approx(expected)


def test_region_matching_picks_the_most_similar_teacher_token():
    # Student crop 1 has 2 tokens; teacher crop 0 has 3. Backbone features
    # make student token 0 closest to teacher token 2, token 1 to token 0.
    s_feat = [torch.zeros(1, 2, 2),
              torch.tensor([[[0., 1.], [1., 0.1]]])]
    t_feat = [torch.tensor([[[1., 0.], [-1., 0.], [0.1, 1.]]]),
              torch.zeros(1, 3, 2)]
    targets = [torch.tensor([[[1., 0.], [0., 1.], [0.5, 0.5]]]),
               torch.full((1, 3, 2), 0.5)]
    s_logits = [torch.zeros(1, 2, 2), torch.tensor([[[0., 1.], [2., 0.]]])]
    # Only the pair (teacher 0, student 1) with teacher 1 skipping student 1
    # and pair (1, 0): student 0's features are zero, matched to token 0.
    pair01 = (ce(torch.tensor([[0.5, 0.5], [1., 0.]]),
                 torch.tensor([[0., 1.], [2., 0.]]), 1.))
    pair10 = ce(torch.full((2, 2), 0.5), torch.zeros(2, 2), 1.)
    loss = region_matching_loss(s_logits, targets, s_feat, t_feat, 1.)
    torch.testing.assert_close(loss, (pair01 + pair10) / 2)


def test_fp32_under_autocast_and_no_pairs():
    s = [torch.randn(2, 8, dtype=torch.bfloat16) for _ in range(2)]
    q = [F.softmax(torch.randn(2, 8), -1).bfloat16() for _ in range(2)]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert dino_view_loss(s, q).dtype == torch.float32
    with pytest.raises(ValueError, match='no'):
        dino_view_loss(s[:1], q[:1])
