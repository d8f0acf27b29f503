"""SimCLRv2: pretraining with and without the memory of negatives, and the
distiller's losses."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmseed.errors import ConfigError
from mmseed.models.losses import nt_xent, soft_label_distillation
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules
from mmseed.utils.config_check import TrainingSetting

register_all_modules()

TINY = dict(type='ResNet_CIFAR', depth=18, stem_channels=4, base_channels=2)
PRE = dict(type='SelfSupDataPreprocessor', mean=[128.] * 3, std=[64.] * 3)
CLS_PRE = dict(type='ClsDataPreprocessor', num_classes=3, mean=[128.] * 3,
               std=[64.] * 3)


def simclrv2(**kwargs):
    model = MODELS.build(dict(
        type='SimCLRv2', data_preprocessor=PRE, backbone=TINY,
        neck=dict(type='SimCLRv2Neck', in_channels=16, out_channels=8),
        **kwargs))
    model.init_weights()
    return model


def views(n=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, 16, 16, generator=gen) for _ in range(2)]


def test_loss_is_twice_nt_xent_of_one_joint_forward():
    model = simclrv2().train()
    x = views()
    torch.manual_seed(0)
    loss = model.loss(x, None)['loss']
    reference = copy.deepcopy(model)
    z = reference.neck(reference.backbone(torch.cat(x)))[0]
    expected = 2 * nt_xent(z[:6], z[6:], 0.1)
    torch.testing.assert_close(loss, expected)
    # Both views in one batch: BatchNorm statistics over 2N, so per-view
    # forwards give another value.
    separate = simclrv2(views_in_one_batch=False).train()
    separate.load_state_dict(copy.deepcopy(reference).state_dict())
    assert not torch.allclose(separate.loss(x, None)['loss'], expected)


def test_memory_adds_momentum_negatives_and_fills_fifo():
    model = simclrv2(memory_size=24, memory_momentum=0.5).train()
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.5))
    before = model.memory.embeddings.clone()
    x = views()
    reference = copy.deepcopy(model)
    loss = model.loss(x, None)['loss']
    # Step 1: the momentum copy starts as the online network.
    for a, b in zip(model.momentum_encoder['backbone'].parameters(),
                    model.backbone.parameters()):
        assert torch.equal(a, b)
    z = reference.neck(reference.backbone(torch.cat(x)))[0]
    expected = 2 * nt_xent(z[:6], z[6:], 0.1, before)
    torch.testing.assert_close(loss, expected)
    keys = F.normalize(z.detach(), dim=1)
    torch.testing.assert_close(model.memory.embeddings[:12], keys)
    assert torch.equal(model.memory.embeddings[12:], before[12:])
    assert int(model.memory.ptr) == 12
    assert not any(p.requires_grad
                   for p in model.momentum_encoder.parameters())
    # Step 2: after an optimizer step, the copy moves halfway (m = 0.5).
    optim.update_params(loss)
    online = [p.detach().clone() for p in model.backbone.parameters()]
    old = [p.clone() for p in model.momentum_encoder['backbone'].parameters()]
    model.loss(views(seed=1), None)
    for ema, was, now in zip(model.momentum_encoder['backbone'].parameters(),
                             old, online):
        torch.testing.assert_close(ema, was + 0.5 * (now - was))
    assert int(model.memory.ptr) == 0  # 24 entries: wrapped
    # The state (memory, pointer, started flag) is in the state dict.
    state = model.state_dict()
    assert {'memory.embeddings', 'memory.ptr', 'momentum_started'} <= set(
        state)


def test_memory_must_take_both_views_of_a_global_batch():
    cfg = dict(type='SimCLRv2', memory_size=100)
    with pytest.raises(ConfigError, match=r'model\.memory_size=100.*2 views'):
        MODELS.get('SimCLRv2').check_config(
            cfg, 'model', TrainingSetting(batch_size=32, world_size=2))
    MODELS.get('SimCLRv2').check_config(
        cfg, 'model', TrainingSetting(batch_size=25, world_size=2))


def teacher_cfg(**kwargs):
    return dict(type='FrozenTeacher', backbone=TINY,
                neck=dict(type='SimCLRv2Neck', in_channels=16, use_layers=1),
                head=dict(type='LinearClsHead', num_classes=3,
                          in_channels=16),
                head_input='embedding', **kwargs)


def distiller(tmp_path, alpha=1., temperature=2., **kwargs):
    teacher = MODELS.build(teacher_cfg())
    for p in teacher.parameters():
        p.data.normal_()
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), path)
    model = MODELS.build(dict(
        type='SimCLRv2Distiller', data_preprocessor=CLS_PRE,
        backbone=dict(TINY, base_channels=1, stem_channels=2),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=8),
        teacher=teacher_cfg(checkpoint=str(path)), alpha=alpha,
        temperature=temperature, **kwargs))
    model.init_weights()
    return model, teacher


def samples(labels):
    return [DataSample().set_gt_label(label) for label in labels]


def test_distill_loss_and_gradient_only_to_the_student(tmp_path):
    model, teacher = distiller(tmp_path)
    model.train()
    x = torch.randn(5, 3, 16, 16)
    teacher_state = copy.deepcopy(model.teacher.state_dict())
    losses = model.loss(x, samples([0] * 5))
    assert set(losses) == {'loss_distill'}
    # The teacher's logits: backbone -> head layer 1 -> classifier (eval).
    teacher.eval()
    with torch.no_grad():
        t = teacher.head((teacher.neck(teacher.backbone(x))[0], ))
        s = model.head(model.extract_feat(x))
    torch.testing.assert_close(losses['loss_distill'],
                               soft_label_distillation(s, t, 2.))
    losses['loss_distill'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher_state[key]), key  # BN stats too


def test_alpha_mixes_cross_entropy_of_the_labelled_only(tmp_path):
    model, _ = distiller(tmp_path, alpha=0.25, temperature=1.)
    model.eval()  # fixed BatchNorm: the pieces can be recomputed
    x = torch.randn(4, 3, 16, 16)
    losses = model.loss(x, samples([2, -1, 0, -1]))
    with torch.no_grad():
        logits = model.head(model.extract_feat(x))
        teacher = model.teacher(x, 'logits')
    labelled = F.cross_entropy(logits[[0, 2]], torch.tensor([2, 0]),
                               reduction='sum')
    torch.testing.assert_close(losses['loss_ce'], 0.75 * labelled / 4)
    torch.testing.assert_close(
        losses['loss_distill'],
        0.25 * soft_label_distillation(logits, teacher))


def test_distiller_predicts_with_the_student(tmp_path):
    model, _ = distiller(tmp_path)
    model.eval()
    x = torch.randn(2, 3, 16, 16)
    out = model.predict(x, samples([0, 1]))
    expected = model.head(model.extract_feat(x)).softmax(1)
    torch.testing.assert_close(out[0].pred_score, expected[0])


@pytest.mark.parametrize('teacher_head, match', [
    (dict(type='LinearClsHead', num_classes=5, in_channels=16),
     r'model\.head\.num_classes=3.*model\.teacher\.head\.num_classes=5'),
    (None, r'model\.teacher needs a classifier head'),
])
def test_teacher_classes_must_match(teacher_head, match):
    cfg = dict(type='SimCLRv2Distiller',
               head=dict(type='LinearClsHead', num_classes=3,
                         in_channels=8),
               teacher=dict(teacher_cfg(), head=teacher_head))
    with pytest.raises(ConfigError, match=match):
        MODELS.get('SimCLRv2Distiller').check_config(
            cfg, 'model', TrainingSetting(batch_size=4, world_size=1))
