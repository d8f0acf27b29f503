"""SEED wires a frozen teacher, a student, the loss and the queue correctly."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmseed.models.losses import seed_loss
from mmseed.registry import MODELS
from mmseed.utils import CheckpointError, register_all_modules
from mmseed.utils.config_check import ConfigError

register_all_modules()

# Tiny ResNets (8 base channels, 64-wide output) keep the test fast.
TINY_RESNET = dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                   base_channels=8)


def seed_cfg(checkpoint=None, **overrides):
    cfg = dict(
        type='SEED',
        queue_len=32,
        feat_dim=16,
        data_preprocessor=dict(type='SelfSupDataPreprocessor',
                               mean=[128.] * 3, std=[64.] * 3),
        backbone=TINY_RESNET,
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
                  out_channels=16, with_avg_pool=True),
        teacher=dict(
            type='FrozenTeacher',
            backbone=TINY_RESNET,
            neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=32,
                      out_channels=16, with_avg_pool=True),
            checkpoint=checkpoint),
        loss=dict(type='SEEDLoss', student_temp=0.2, teacher_temp=0.05))
    cfg.update(overrides)
    return cfg


@pytest.fixture
def teacher_ckpt(tmp_path):
    """A teacher checkpoint in mmseed's format with non-trivial BN stats."""
    torch.manual_seed(1)
    teacher = MODELS.build(seed_cfg()['teacher'])
    for name, buf in teacher.named_buffers():
        if 'running_mean' in name:
            buf.normal_()
        if 'running_var' in name:
            buf.uniform_(0.5, 2)
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': teacher.state_dict(),
                'meta': {'mmseed_format': 'teacher'}}, path)
    return path, teacher.state_dict()


def build(teacher_ckpt, **overrides):
    model = MODELS.build(seed_cfg(str(teacher_ckpt[0]), **overrides))
    model.init_weights()
    return model


def batch(num_views=1, n=4, size=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (n, 3, size, size), generator=gen,
                            dtype=torch.uint8) for _ in range(num_views)]
    return dict(inputs=inputs, data_samples=[DataSample() for _ in range(n)])


def test_teacher_is_loaded_from_checkpoint(teacher_ckpt):
    model = build(teacher_ckpt)
    for key, value in teacher_ckpt[1].items():
        assert torch.equal(model.teacher.state_dict()[key], value), key


def test_teacher_frozen_student_trains(teacher_ckpt):
    model = build(teacher_ckpt)
    model.train()
    assert not model.teacher.training
    assert all(not m.training for m in model.teacher.modules())
    before = copy.deepcopy(model.teacher.state_dict())
    student_before = copy.deepcopy(model.backbone.state_dict())
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    for step in range(3):
        model.train()  # the runner calls train() every epoch
        losses = model.train_step(batch(seed=step), optim)
        assert torch.isfinite(losses['loss_seed'])
    # Teacher parameters and BN buffers are bit-identical; no gradients.
    after = model.teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None and not p.requires_grad
               for p in model.teacher.parameters())
    # The student's weights and BN statistics moved.
    changed = [k for k, v in model.backbone.state_dict().items()
               if not torch.equal(v, student_before[k])]
    assert any('running_mean' in k for k in changed)
    assert any(k.endswith('conv1.weight') for k in changed)


def test_teacher_runs_in_inference_mode_and_returns_an_ordinary_tensor(
        teacher_ckpt, monkeypatch):
    model = build(teacher_ckpt)
    seen = []
    neck_forward = model.teacher.neck.forward

    def spy(*args):
        seen.append(torch.is_inference_mode_enabled())
        return neck_forward(*args)

    monkeypatch.setattr(model.teacher.neck, 'forward', spy)
    out = model.teacher(torch.randn(2, 3, 32, 32))
    assert seen == [True]
    assert not out.is_inference() and not out.requires_grad
    # It can take part in a graph, as SEED's loss uses it.
    student = torch.randn(2, 16, requires_grad=True)
    (student * out).sum().backward()
    assert torch.equal(student.grad, out)


def test_loss_and_queue_update(teacher_ckpt):
    model = build(teacher_ckpt)
    model.train()
    data = model.data_preprocessor(batch(n=4), True)
    queue_before = model.queue.embeddings.clone()
    losses = model.loss(**data)
    image = data['inputs'][0]
    with torch.no_grad():
        student = model.neck(model.backbone(image))[0]
        teacher = model.teacher(image)
    # The loss used the queue as it was before this batch.
    expected = seed_loss(student, teacher, queue_before, 0.2, 0.05)
    assert torch.allclose(losses['loss_seed'], expected, atol=1e-5)
    # Then the batch's normalised teacher embeddings entered the queue.
    assert torch.allclose(model.queue.embeddings[:4],
                          F.normalize(teacher, dim=1), atol=1e-6)
    assert torch.equal(model.queue.embeddings[4:], queue_before[4:])
    assert int(model.queue.ptr) == 4


def test_extract_feat_is_the_student_backbone(teacher_ckpt):
    model = build(teacher_ckpt)
    image = torch.randn(2, 3, 32, 32)
    feats = model.extract_feat(image)
    assert torch.equal(feats[-1], model.backbone(image)[-1])


def test_small_patch_variant(teacher_ckpt):
    model = build(teacher_ckpt, num_patches=2)
    model.train()
    data = batch(num_views=1, n=4)
    data['inputs'] += batch(num_views=2, n=4, size=16, seed=1)['inputs']
    data = model.data_preprocessor(data, True)
    losses = model.loss(**data)
    assert set(losses) == {'loss_seed', 'loss_seed_patch'}
    with torch.no_grad():
        first_patch = model.teacher(data['inputs'][1])
    assert torch.allclose(model.patch_queue.embeddings[:4],
                          F.normalize(first_patch, dim=1), atol=1e-6)
    assert int(model.queue.ptr) == int(model.patch_queue.ptr) == 4


def test_wrong_number_of_views_is_a_clear_error(teacher_ckpt):
    model = build(teacher_ckpt, num_patches=2)
    data = model.data_preprocessor(batch(num_views=1), True)
    with pytest.raises(ValueError, match='expects 3 view'):
        model.loss(**data)


def test_neck_width_mismatch_is_a_clear_error(teacher_ckpt):
    cfg_neck = dict(type='MoCoV2Neck', in_channels=512, hid_channels=64,
                    out_channels=16)
    model = build(teacher_ckpt, neck=cfg_neck)
    data = model.data_preprocessor(batch(), True)
    with pytest.raises(ValueError, match='backbone outputs 64-channel '
                       'features but model.neck expects 512: set '
                       'model.neck.in_channels=64'):
        model.loss(**data)


@pytest.mark.parametrize('student_width, teacher_width', [(32, 16), (16, 32)])
def test_embedding_width_mismatch_is_a_clear_error(student_width,
                                                   teacher_width):
    def neck(hidden, width):
        return dict(type='MoCoV2Neck', in_channels=64, hid_channels=hidden,
                    out_channels=width, with_avg_pool=True)

    cfg = seed_cfg(None, neck=neck(64, student_width))
    cfg['teacher']['neck'] = neck(32, teacher_width)
    model = MODELS.build(cfg)  # the teacher's weights do not matter here
    data = model.data_preprocessor(batch(), True)
    with pytest.raises(ConfigError) as err:
        model.loss(**data)
    assert str(err.value).startswith(
        f'the student outputs {student_width}-d embeddings and the teacher '
        f'{teacher_width}-d, but SEED needs both to be model.feat_dim=16-d: '
        'set model.neck.out_channels and model.feat_dim')


def test_loss_and_queue_are_fp32_under_bf16_autocast(teacher_ckpt):
    """Under AMP the similarities, softmaxes and queue stay fp32."""
    model = build(teacher_ckpt, loss=dict(type='SEEDLoss', teacher_temp=1e-4))
    model.train()
    data = model.data_preprocessor(batch(n=4), True)
    queue_before = model.queue.embeddings.clone()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.loss(**data)
        with torch.no_grad():
            student = model.student_embed(data['inputs'][0])
            teacher = model.teacher(data['inputs'][0])
    # The networks ran in bf16 ...
    assert student.dtype == teacher.dtype == torch.bfloat16
    # ... the loss is the fp32 computation on their outputs ...
    assert losses['loss_seed'].dtype == torch.float32
    expected = seed_loss(student.float(), teacher.float(), queue_before, 0.2,
                         1e-4)
    assert torch.isfinite(expected)
    assert torch.allclose(losses['loss_seed'], expected, rtol=0, atol=1e-6)
    # ... and the queue holds the fp32-normalised teacher embeddings.
    assert model.queue.embeddings.dtype == torch.float32
    assert torch.equal(model.queue.embeddings[:4],
                       F.normalize(teacher.float(), dim=1))


def test_missing_teacher_checkpoint(tmp_path):
    model = MODELS.build(seed_cfg(None))
    with pytest.raises(CheckpointError, match='model.teacher.checkpoint'):
        model.init_weights()
    model = MODELS.build(seed_cfg(str(tmp_path / 'none.pth')))
    with pytest.raises(CheckpointError, match='not found'):
        model.init_weights()
