"""EsViT: what the loss computes from the student and its EMA teacher, the
schedules, and what trains."""
import copy

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmseed.errors import ConfigError
from mmseed.models.losses import (dino_targets, dino_view_loss,
                                  region_matching_loss)
from mmseed.models.utils import cosine_momentum
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

register_all_modules()

TINY = dict(type='ResNet_CIFAR', depth=18, stem_channels=4, base_channels=2)
PRE = dict(type='SelfSupDataPreprocessor', mean=[128.] * 3, std=[64.] * 3)
HEAD = dict(type='DINOHead', in_channels=16, out_dim=12, hidden_dim=8,
            bottleneck_dim=4)


def esvit(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        dict(type='EsViT', data_preprocessor=PRE, backbone=TINY, head=HEAD,
             region_head=dict(HEAD, type='RegionMatchingHead'),
             warmup_teacher_temp_epochs=3), **kwargs))
    model.init_weights()
    return model.train()


def crops(n=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, 16, 16, generator=gen) for _ in range(2)] + [
        torch.randn(n, 3, 8, 8, generator=gen) for _ in range(3)]


def at(epoch=0, it=0, max_iters=100):
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', epoch)
    hub.update_info('iter', it)
    hub.update_info('max_iters', max_iters)


def outputs(modules, images):
    feats = modules['backbone'](images)[-1]
    tokens = feats.flatten(2).transpose(1, 2)
    out = dict(logits=modules['head'](tokens.mean(1)), tokens=tokens)
    if 'region_head' in modules:
        out['region'] = modules['region_head'](tokens)
    return out


def test_teacher_starts_as_the_student_and_gets_no_gradient():
    model = esvit()
    student = model._student_modules().state_dict()
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, student[key]), key
    assert not any(p.requires_grad for p in model.teacher.parameters())


def test_loss_is_the_official_combination():
    at(epoch=1)
    model = esvit()
    x = crops()
    ref = copy.deepcopy(model)
    losses = model.loss(x, None)
    temp = 0.04 + (0.07 - 0.04) * 1 / 2  # epoch 1 of a 3-epoch warm-up
    # Student crops of one size batched: BatchNorm sees them together.
    s_global = outputs(ref._student_modules(), torch.cat(x[:2]))
    s_local = outputs(ref._student_modules(), torch.cat(x[2:]))
    with torch.no_grad():
        t = outputs(ref.teacher, torch.cat(x[:2]))
    split = lambda v, k: list(v.chunk(k))  # noqa: E731
    s_logits = split(s_global['logits'], 2) + split(s_local['logits'], 3)
    targets = [dino_targets(q, torch.zeros(1, 12), temp)
               for q in split(t['logits'], 2)]
    torch.testing.assert_close(losses['loss_view'],
                               0.5 * dino_view_loss(s_logits, targets, 0.1))
    region_targets = [dino_targets(q, torch.zeros(1, 12), temp)
                      for q in split(t['region'], 2)]
    expected = region_matching_loss(
        split(s_global['region'], 2) + split(s_local['region'], 3),
        region_targets,
        split(s_global['tokens'], 2) + split(s_local['tokens'], 3),
        split(t['tokens'], 2), 0.1)
    torch.testing.assert_close(losses['loss_region'], 0.5 * expected)
    # Then both teacher centres move towards the batch mean (momentum 0.9).
    torch.testing.assert_close(
        model.teacher['head'].center,
        0.1 * t['logits'].mean(0, keepdim=True))
    torch.testing.assert_close(
        model.teacher['region_head'].center,
        0.1 * t['region'].flatten(0, 1).mean(0, keepdim=True))
    assert torch.count_nonzero(model.head.center) == 0  # the student's: unused


def test_teacher_temperature_schedule():
    model = esvit()
    found = []
    for epoch in (0, 1, 2, 3, 50):
        at(epoch=epoch)
        found.append(model.current_teacher_temp())
    assert found == pytest.approx([0.04, 0.055, 0.07, 0.07, 0.07])


def test_ema_update_follows_the_cosine_momentum():
    model = esvit()
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.5))
    at(it=0)
    before = {n: p.clone() for n, p in model.teacher.named_parameters()}
    model.train_step(dict(inputs=crops(), data_samples=None), optim)
    for name, param in model.teacher.named_parameters():
        assert torch.equal(param, before[name]), name  # no update at 0
    student = copy.deepcopy(model._student_modules().state_dict())
    teacher = copy.deepcopy(model.teacher.state_dict())
    at(it=1)
    model.train_step(dict(inputs=crops(seed=1), data_samples=None), optim)
    m = cosine_momentum(0, 100, 0.004, 0.)
    name = 'head.mlp.0.weight'
    torch.testing.assert_close(model.teacher.state_dict()[name],
                               teacher[name] + m * (student[name] -
                                                    teacher[name]))
    # The teacher's BatchNorm statistics are its own, not the student's.
    key = 'backbone.bn1.running_mean'
    assert not torch.equal(model.teacher.state_dict()[key],
                           model._student_modules().state_dict()[key])


def test_features_for_evaluation_are_the_teachers():
    model = esvit()
    with torch.no_grad():
        model.teacher['backbone'].conv1.weight.add_(1.)  # teacher != student
        x = crops()[0]
        torch.testing.assert_close(model.extract_feat(x)[-1],
                                   model.teacher['backbone'](x)[-1])
        assert not torch.allclose(model.extract_feat(x)[-1],
                                  model.backbone(x)[-1])


def test_view_loss_alone_is_dino():
    at()
    model = esvit(region_head=None)
    assert model.view_weight == 1.
    assert set(model.loss(crops(), None)) == {'loss_view'}


def test_errors():
    at()
    with pytest.raises(ConfigError, match='needs global views'):
        esvit(num_global=0)
    model = esvit()
    with pytest.raises(ConfigError, match='at least one more per image'):
        model.loss(crops()[:2], None)
    local_first = crops()[2:] + crops()[:2]
    with pytest.raises(ConfigError, match="put a 'global' group"):
        model.loss(local_first, None)
    vectors = esvit(backbone=dict(type='mmpretrain.VisionTransformer',
                                  arch=dict(embed_dims=16, num_layers=1,
                                            num_heads=2,
                                            feedforward_channels=16),
                                  img_size=16, patch_size=8,
                                  out_type='cls_token'))
    with pytest.raises(ConfigError, match='one vector per image'):
        vectors.loss(crops(), None)


def test_crops_too_small_for_the_swin_window_are_one_line_errors():
    at()
    swin = dict(type='mmpretrain.SwinTransformer',
                arch=dict(embed_dims=12, depths=[1, 1, 1], num_heads=[1, 2, 4]),
                img_size=16, patch_size=2, window_size=4, out_indices=(2, ),
                pad_small_map=False)
    head = dict(HEAD, in_channels=48)
    model = esvit(backbone=swin, head=head,
                  region_head=dict(head, type='RegionMatchingHead'))
    with pytest.raises(ConfigError, match=r'16x16-px crops .*'
                       r'backbone.pad_small_map=True'):
        model.loss(crops(n=2), None)
    swin['pad_small_map'] = True
    model = esvit(backbone=swin, head=head,
                  region_head=dict(head, type='RegionMatchingHead'))
    assert set(model.loss(crops(n=2), None)) == {'loss_view', 'loss_region'}
