"""NT-Xent, the mutual similarity KL and SimSiam's loss against the official
DoGo computations (NeurAI-Lab/DoGo, branch dogo), written out here."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseed.models.losses import mutual_similarity_kl, nt_xent, simsiam_loss


def official_nt_xent(zx, zy, temperature=0.5):
    """criterion/ntxent.py: 2N x 2N cosine similarities / T, positives on
    the +-N diagonals, the 2N - 2 others as negatives, summed CE / 2N."""
    n = zx.shape[0]
    z = torch.cat([zx, zy])
    sim = F.cosine_similarity(z[:, None], z[None], dim=2) / temperature
    pos = torch.cat([torch.diag(sim, n), torch.diag(sim, -n)])[:, None]
    mask = torch.ones(2 * n, 2 * n, dtype=torch.bool)
    mask.fill_diagonal_(False)
    for i in range(n):
        mask[i, n + i] = mask[n + i, i] = False
    neg = sim[mask].reshape(2 * n, -1)
    logits = torch.cat([pos, neg], dim=1)
    return F.cross_entropy(logits, torch.zeros(2 * n, dtype=torch.long),
                           reduction='sum') / (2 * n)


def official_kl(zxs, zys, zxt, zyt, temperature=0.1):
    """criterion/kl.py."""
    sim_s = F.softmax(F.cosine_similarity(zxs[:, None], zys[None], dim=2)
                      / temperature, dim=1)
    sim_t = F.softmax(F.cosine_similarity(zxt[:, None], zyt[None], dim=2)
                      / temperature, dim=1)
    return (F.kl_div(sim_s.log(), sim_t.detach()),
            F.kl_div(sim_t.log(), sim_s.detach()))


def test_nt_xent_by_hand_on_two_images():
    # Unit vectors: image 0's views at 0 and 90 degrees, image 1's at 180
    # and 270; T = 1.
    z1 = torch.tensor([[1., 0.], [-1., 0.]])
    z2 = torch.tensor([[0., 1.], [0., -1.]])
    # Anchor z1[0]: positive z2[0] (cos 0), negatives z1[1] (-1), z2[1] (0).
    # Every anchor sees one positive at 0, one negative at -1, one at 0.
    expected = -math.log(1 / (1 + math.exp(-1) + 1))
    assert nt_xent(z1, z2, 1.).item() == pytest.approx(expected, rel=1e-6)


def test_nt_xent_equals_the_official_code():
    torch.manual_seed(0)
    zx, zy = torch.randn(8, 16), torch.randn(8, 16)
    torch.testing.assert_close(nt_xent(zx, zy), official_nt_xent(zx, zy))
    torch.testing.assert_close(nt_xent(zx, zy, 0.1),
                               official_nt_xent(zx, zy, 0.1))


def test_mutual_kl_equals_the_official_element_mean():
    torch.manual_seed(1)
    views = [torch.randn(6, 8) for _ in range(4)]
    ours = mutual_similarity_kl(*views)
    theirs = official_kl(*views)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    # batchmean is N times the element mean.
    batchmean = mutual_similarity_kl(*views, reduction='batchmean')
    for a, b in zip(batchmean, ours):
        torch.testing.assert_close(a, 6 * b, rtol=1e-5, atol=1e-7)


def test_mutual_kl_gradient_reaches_only_the_peer_it_trains():
    views = [torch.randn(5, 4, requires_grad=True) for _ in range(4)]
    kl_a, kl_b = mutual_similarity_kl(*views)
    kl_a.backward()
    assert views[0].grad is not None and views[1].grad is not None
    assert views[2].grad is None and views[3].grad is None
    for v in views:
        v.grad = None
    kl_b.backward()
    assert views[0].grad is None and views[1].grad is None
    assert views[2].grad is not None and views[3].grad is not None


def test_identical_peers_have_zero_kl():
    a1, a2 = torch.randn(4, 3), torch.randn(4, 3)
    kl_a, kl_b = mutual_similarity_kl(a1, a2, a1 * 2, a2 * 3)
    assert kl_a.item() == pytest.approx(0., abs=1e-7)
    assert kl_b.item() == pytest.approx(0., abs=1e-7)


def test_simsiam_loss_by_hand_and_stop_gradient():
    p1 = torch.tensor([[1., 0.]], requires_grad=True)
    p2 = torch.tensor([[0., 2.]], requires_grad=True)
    z1 = torch.tensor([[0., 1.]], requires_grad=True)
    z2 = torch.tensor([[1., 1.]], requires_grad=True)
    loss = simsiam_loss(p1, p2, z1, z2)
    # cos(p1, z2) = 1/sqrt(2), cos(p2, z1) = 1.
    assert loss.item() == pytest.approx(-(1 / math.sqrt(2) + 1) / 2)
    loss.backward()
    assert z1.grad is None and z2.grad is None and p1.grad is not None
