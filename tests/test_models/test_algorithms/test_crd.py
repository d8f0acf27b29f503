"""CRD: what the loss computes, which weights it applies, what it trains."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmseed.errors import ConfigError
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

register_all_modules()

TINY = dict(type='ResNet_CIFAR', depth=18, stem_channels=4, base_channels=2)
STUDENT = dict(TINY, base_channels=1, stem_channels=2)  # 8-d feature
CLS_PRE = dict(type='ClsDataPreprocessor', num_classes=3, mean=[128.] * 3,
               std=[64.] * 3)
N = 40  # images in the banks


def teacher_cfg(path, head=True):
    cfg = dict(type='FrozenTeacher', backbone=TINY, checkpoint=str(path))
    if head:
        cfg['head'] = dict(type='LinearClsHead', num_classes=3,
                           in_channels=16)
    return cfg


@pytest.fixture
def teacher_path(tmp_path):
    torch.manual_seed(1)
    teacher = MODELS.build(dict(teacher_cfg('', head=True), checkpoint=None))
    for p in teacher.parameters():
        p.data.normal_()
    for m in teacher.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2)
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def crd(teacher_path, head=True, **kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='CRD', data_preprocessor=CLS_PRE, backbone=STUDENT,
        neck=dict(type='GlobalAveragePooling'),
        teacher=teacher_cfg(teacher_path, head=kwargs.pop('teacher_head',
                                                          True)),
        student_embed=dict(type='LinearNeck', in_channels=8, out_channels=6,
                           gap_dim=0, norm_cfg=None),
        teacher_embed=dict(type='LinearNeck', in_channels=16, out_channels=6,
                           gap_dim=0, norm_cfg=None),
        num_negatives=5, num_samples=N)
    if head:
        cfg['head'] = dict(type='LinearClsHead', num_classes=3,
                           in_channels=8)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    if model.banks.class_aware:
        model.banks.set_labels(torch.arange(N) % 3)
    return model.train()


def batch(n=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 3, 16, 16, generator=gen)
    samples = [DataSample(sample_idx=3 * i + 1).set_gt_label(i % 3)
               for i in range(n)]
    return images, samples


def fixed_rows(model, rows):
    model.banks.sample = lambda index: rows


ROWS = torch.tensor([[1, 0, 9, 20, 33, 7], [4, 2, 5, 11, 39, 8],
                     [7, 1, 1, 30, 2, 6], [10, 0, 3, 17, 22, 38]])


def test_loss_is_the_reference_computation(teacher_path):
    model = crd(teacher_path, kd_weight=0.9, ce_weight=0.1, crd_weight=0.8)
    images, samples = batch()
    fixed_rows(model, ROWS)
    ref = copy.deepcopy(model)
    losses = model.loss(images, samples)
    assert set(losses) == {'loss_ce', 'loss_kd', 'loss_crd'}

    # RepDistiller: CRDLoss(embed_s(f_s), embed_t(f_t)) with ContrastMemory
    # (memory_v1 = student bank, memory_v2 = teacher bank), DistillKL, CE.
    f_s = F.adaptive_avg_pool2d(ref.backbone(images)[-1], 1).flatten(1)
    feats_t = ref.teacher.backbone(images)
    f_t = F.adaptive_avg_pool2d(feats_t[-1], 1).flatten(1)
    v1 = F.normalize(ref.student_embed.fc(f_s), dim=1)
    v2 = F.normalize(ref.teacher_embed.fc(f_t), dim=1)
    out_v2 = torch.exp(torch.bmm(ref.banks.student[ROWS], v2[:, :, None])
                       .squeeze(2) / 0.07)
    out_v1 = torch.exp(torch.bmm(ref.banks.teacher[ROWS], v1[:, :, None])
                       .squeeze(2) / 0.07)
    out_v1 = out_v1 / (out_v1.mean() * N)
    out_v2 = out_v2 / (out_v2.mean() * N)

    def contrast_loss(x):
        m, pn, eps = x.shape[1] - 1, 1 / N, 1e-7
        d1 = torch.log(x[:, 0] / (x[:, 0] + m * pn + eps))
        d0 = torch.log(m * pn / (x[:, 1:] + m * pn + eps))
        return -(d1.sum() + d0.sum()) / x.shape[0]

    torch.testing.assert_close(
        losses['loss_crd'], 0.8 * (contrast_loss(out_v1) +
                                   contrast_loss(out_v2)))
    logit_s = ref.head.fc(f_s)
    logit_t = ref.teacher.head.fc(f_t)
    labels = torch.tensor([0, 1, 2, 0])
    torch.testing.assert_close(losses['loss_ce'],
                               0.1 * F.cross_entropy(logit_s, labels))
    kd = F.kl_div(F.log_softmax(logit_s / 4, 1), F.softmax(logit_t / 4, 1),
                  reduction='sum') * 16 / 4
    torch.testing.assert_close(losses['loss_kd'], 0.9 * kd)

    # Then the batch's rows: 0.5 old + 0.5 new, renormalised.
    for bank, old, new in ((model.banks.student, ref.banks.student, v1),
                           (model.banks.teacher, ref.banks.teacher, v2)):
        index = torch.tensor([1, 4, 7, 10])
        torch.testing.assert_close(
            bank[index], F.normalize(0.5 * old[index] + 0.5 * new, dim=1))
        assert torch.equal(bank[20:], old[20:])


def grads(model, losses):
    model.zero_grad()
    sum(losses.values()).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()
            if p.grad is not None}


@pytest.mark.parametrize('name, key', [('crd_weight', 'loss_crd'),
                                       ('kd_weight', 'loss_kd'),
                                       ('ce_weight', 'loss_ce')])
def test_each_weight_scales_its_gradient(teacher_path, name, key):
    images, samples = batch()
    found = []
    for weight in (0.5, 1.5):
        weights = dict(ce_weight=0., kd_weight=0., crd_weight=0.)
        weights[name] = weight
        model = crd(teacher_path, **weights)
        fixed_rows(model, ROWS)
        losses = model.loss(images, samples)
        found.append((losses, grads(model, {key: losses[key]})))
    (low, g_low), (high, g_high) = found
    torch.testing.assert_close(high[key], 3 * low[key])
    assert g_low.keys() == g_high.keys() and g_low
    for n in g_low:
        torch.testing.assert_close(g_high[n], 3 * g_low[n])
    if key == 'loss_crd':  # both embeddings train, the classifier does not
        assert any(n.startswith('teacher_embed') for n in g_low)
        assert not any(n.startswith('head') for n in g_low)


def test_teacher_frozen_student_and_embeddings_train(teacher_path):
    model = crd(teacher_path, kd_weight=1.)
    teacher = copy.deepcopy(model.teacher.state_dict())
    student = copy.deepcopy(model.state_dict())
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1))
    for step in range(2):
        model.train_step(dict(zip(('inputs', 'data_samples'),
                                  batch(seed=step))), optim)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher[key]), key
    after = model.state_dict()
    for prefix in ('backbone.', 'head.', 'student_embed.', 'teacher_embed.',
                   'banks.student', 'banks.teacher'):
        assert any(not torch.equal(after[k], student[k])
                   for k in after if k.startswith(prefix)), prefix
    assert not any(n.startswith('teacher.') for n, p in
                   model.named_parameters() if p.requires_grad)


def test_label_free_mode_uses_no_labels(teacher_path):
    model = crd(teacher_path, head=False, negatives='uniform',
                teacher_head=False)
    images, samples = batch()
    for s in samples:
        del s.gt_label
    losses = model.loss([images], samples)
    assert set(losses) == {'loss_crd'}
    assert model.head is None
    assert model.extract_feat(images)[-1].shape == (4, 8)


@pytest.mark.parametrize('kwargs, match', [
    (dict(head=False, negatives='uniform', ce_weight=1.),
     r'label-free CRD\) has no student logits for model.ce_weight'),
    (dict(head=False), "model.negatives='uniform'"),
    (dict(kd_weight=1., teacher_head=False), 'teacher has no head'),
    (dict(crd_weight=-1.), 'must be >= 0'),
    (dict(student_embed=dict(type='LinearNeck', in_channels=8,
                             out_channels=7, gap_dim=0, norm_cfg=None)),
     'one out_channels'),
    (dict(teacher_embed=dict(type='LinearNeck', in_channels=16,
                             out_channels=6)),
     r"teacher_embed must be one Linear layer .*'BatchNorm1d'"),
])
def test_config_errors(teacher_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        crd(teacher_path, **kwargs)


def test_batch_errors(teacher_path):
    model = crd(teacher_path)
    images, samples = batch()
    with pytest.raises(ConfigError, match='sample_idx'):
        model.loss(images, [DataSample().set_gt_label(0) for _ in range(4)])
    with pytest.raises(ConfigError, match='one view per image'):
        model.loss([images, images], samples)
    wide = crd(teacher_path, student_embed=dict(
        type='LinearNeck', in_channels=5, out_channels=6, gap_dim=0, norm_cfg=None))
    with pytest.raises(ConfigError, match='student_embed.in_channels=8'):
        wide.loss(images, samples)
    assert math.isfinite(model.loss(images, samples)['loss_crd'].item())
