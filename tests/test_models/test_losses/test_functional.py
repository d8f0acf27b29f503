"""The shared loss blocks against hand-computed values, in fp32 under AMP."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseed.models.losses import (cosine_similarity_matrix, kl_divergence,
                                  queue_logits, soft_cross_entropy)


def test_queue_logits_put_the_positive_first():
    q = torch.tensor([[1., 0.], [0., 2.]])
    p = torch.tensor([[3., 1.], [1., 1.]])
    queue = torch.tensor([[1., 1.], [0., -1.], [2., 0.]])
    expected = torch.tensor([[3., 1., 0., 2.], [2., 2., -2., 0.]])
    assert torch.equal(queue_logits(q, p, queue), expected)


def test_cosine_similarity_matrix():
    a = torch.tensor([[3., 4.], [1., 0.]])
    b = torch.tensor([[0., 2.], [-1., 0.], [1., 1.]])
    r = 1 / math.sqrt(2)
    expected = torch.tensor([[0.8, -0.6, 7 / 5 * r], [0., -1., r]])
    torch.testing.assert_close(cosine_similarity_matrix(a, b), expected)


def test_soft_cross_entropy_by_hand():
    logits = torch.tensor([[1., 2., 0.]])
    target = torch.tensor([[0., math.log(3.), 0.]])  # softmax: .2 .6 .2
    # student temperature 2: log_softmax([.5, 1, 0])
    z = math.log(math.exp(.5) + math.exp(1.) + 1.)
    expected = -(.2 * (.5 - z) + .6 * (1. - z) + .2 * (0. - z))
    got = soft_cross_entropy(logits, target, temperature=2.)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # The target temperature sharpens the target: at 1e-4 it is one-hot.
    sharp = soft_cross_entropy(logits, target, target_temperature=1e-4)
    one_hot = -F.log_softmax(logits, 1)[0, 1].item()
    assert sharp.item() == pytest.approx(one_hot, rel=1e-6)


def test_kl_divergence_reductions_by_hand():
    logits = torch.tensor([[0., 0.], [math.log(3.), 0.]])  # P: .5 .5; .75 .25
    target = torch.tensor([[math.log(3.), 0.], [0., 0.]])  # .75 .25; .5 .5
    row0 = .75 * math.log(.75 / .5) + .25 * math.log(.25 / .5)
    row1 = .5 * math.log(.5 / .75) + .5 * math.log(.5 / .25)
    batchmean = kl_divergence(logits, target)
    assert batchmean.item() == pytest.approx((row0 + row1) / 2, rel=1e-5)
    mean = kl_divergence(logits, target, reduction='mean')
    assert mean.item() == pytest.approx((row0 + row1) / 4, rel=1e-5)
    # F.kl_div's default on softmax probabilities, as official code writes it.
    official = F.kl_div(F.log_softmax(logits, 1), F.softmax(target, 1))
    assert mean.item() == pytest.approx(official.item(), rel=1e-5)
    with pytest.raises(ValueError, match='reduction'):
        kl_divergence(logits, target, reduction='sum')


def test_gradient_reaches_the_prediction_only_when_the_target_is_detached():
    logits = torch.randn(4, 5, requires_grad=True)
    target = torch.randn(4, 5, requires_grad=True)
    kl_divergence(logits, target.detach()).backward()
    assert logits.grad is not None and target.grad is None


@pytest.mark.parametrize('function', [soft_cross_entropy, kl_divergence])
def test_fp32_under_autocast(function):
    logits = torch.randn(3, 6).bfloat16()
    target = torch.randn(3, 6).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = function(logits, target, 0.2, 1e-4)
    assert got.dtype == torch.float32
    assert got == function(logits.float(), target.float(), 0.2, 1e-4)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert queue_logits(logits, target, target).dtype == torch.float32


def test_element_mean_warns_nothing():
    """F.kl_div(reduction='mean') warns on every call; ours does not."""
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        kl_divergence(torch.randn(3, 4), torch.randn(3, 4), reduction='mean')
    assert not caught
