"""The SEED loss against hand-computed values and its numerical contract."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseed.models.losses import SEEDLoss, seed_loss


def test_matches_hand_computed_example():
    # Two samples, D=2, one queued embedding q=(0, 1). Both teacher
    # embeddings are t=(1, 0); students are s1=(1, 0) and s2=(0, 1).
    student = torch.tensor([[1., 0.], [0., 1.]])
    teacher = torch.tensor([[1., 0.], [1., 0.]])
    queue = torch.tensor([[0., 1.]])
    # Teacher logits [t.t, t.q] / 1 = [1, 0] for both samples.
    target = [math.e / (math.e + 1), 1 / (math.e + 1)]
    # Student logits / 0.5: sample 1 [2, 0], sample 2 [0, 2].
    log_z = math.log(math.exp(2) + 1)
    loss1 = -(target[0] * (2 - log_z) + target[1] * (0 - log_z))
    loss2 = -(target[0] * (0 - log_z) + target[1] * (2 - log_z))
    expected = (loss1 + loss2) / 2  # = 1.126928...
    got = seed_loss(student, teacher, queue, student_temp=0.5, teacher_temp=1.)
    assert got.item() == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(1.1269280, abs=1e-6)


def test_embeddings_are_normalised_inside():
    torch.manual_seed(0)
    s, t = torch.randn(4, 8), torch.randn(4, 8)
    q = F.normalize(torch.randn(16, 8), dim=1)
    a = seed_loss(s, t, q, 0.2, 0.05)
    b = seed_loss(3 * s, 0.1 * t, q, 0.2, 0.05)
    assert torch.allclose(a, b, atol=1e-6)


def test_tiny_teacher_temperature_is_cross_entropy_on_the_positive():
    """With tau_T -> 0 the target is one-hot on t.t (=1 > t.q)."""
    torch.manual_seed(0)
    s = F.normalize(torch.randn(6, 16), dim=1)
    t = F.normalize(torch.randn(6, 16), dim=1)
    q = F.normalize(torch.randn(32, 16), dim=1)
    logits = torch.cat([(s * t).sum(1, keepdim=True), s @ q.T], 1) / 0.2
    expected = F.cross_entropy(logits, torch.zeros(6, dtype=torch.long))
    got = seed_loss(s, t, q, student_temp=0.2, teacher_temp=1e-4)
    assert torch.allclose(got, expected, atol=1e-5)


def test_fp32_under_autocast():
    torch.manual_seed(0)
    s = torch.randn(8, 16).bfloat16()
    t = torch.randn(8, 16).bfloat16()
    q = F.normalize(torch.randn(64, 16), dim=1).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = seed_loss(s, t, q, 0.2, 1e-4)
    assert got.dtype == torch.float32 and torch.isfinite(got)
    reference = seed_loss(s.float(), t.float(), q.float(), 0.2, 1e-4)
    assert torch.allclose(got, reference, atol=1e-6)


def test_gradient_reaches_student_only_through_loss():
    s = torch.randn(4, 8, requires_grad=True)
    t = torch.randn(4, 8)
    q = F.normalize(torch.randn(10, 8), dim=1)
    SEEDLoss(0.2, 0.01)(s, t, q).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0


@pytest.mark.parametrize('shapes', [((4, 8), (4, 16), (10, 8)),
                                    ((4, 8), (4, 8), (10, 16))])
def test_bad_shapes_are_clear_errors(shapes):
    s, t, q = (torch.randn(*shape) for shape in shapes)
    with pytest.raises(ValueError, match='one shape'):
        seed_loss(s, t, q)


def test_temperatures_must_be_positive():
    with pytest.raises(ValueError, match='positive'):
        SEEDLoss(teacher_temp=0)
