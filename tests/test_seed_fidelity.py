"""The SEED configs that claim the paper's setting have the official code's
students, learning-rate rule and epochs (jacobswan1/SEED)."""
import math

import pytest
import torch
from mmengine.config import Config
from torch import nn

from conftest import REPO
from mmseed.registry import MODELS, PARAM_SCHEDULERS
from mmseed.utils import register_all_modules

register_all_modules()

MBV3 = ('configs/seed/seed_r50_to_mbv3.py',
        'configs/seed/seed_r50w2-swav_to_mbv3_small-patch-800e.py')
EFFB0 = ('configs/seed/seed_r50_to_effb0.py',
         'configs/seed/seed_r50w2-swav_to_effb0_small-patch-800e.py')


def student(path):
    cfg = Config.fromfile(REPO / path)
    cfg.model.teacher.checkpoint = None
    return cfg, MODELS.build(cfg.model)


def layer_kinds(neck):
    return [type(m).__name__ for m in neck.mlp]


def linear_shapes(neck):
    return [(m.in_features, m.out_features) for m in neck.mlp
            if isinstance(m, nn.Linear)]


@pytest.mark.parametrize('path', MBV3)
def test_mobilenet_v3_large_student_is_the_official_one(path):
    """seed/architectures/mobilenet/mobilenetv3.py: 960 -> Linear(960,
    1280) - h-swish - Dropout(0.2) -> fc replaced by Linear(1280, 1280) -
    ReLU - Linear(1280, 128) (builder.py); BatchNorm2d defaults."""
    _, model = student(path)
    assert layer_kinds(model.neck) == [
        'Linear', 'Hardswish', 'Dropout', 'Linear', 'ReLU', 'Linear']
    assert linear_shapes(model.neck) == [(960, 1280), (1280, 1280),
                                         (1280, 128)]
    assert model.neck.mlp[2].p == 0.2
    # 960*1280+1280 + 1280*1280+1280 + 1280*128+128
    assert sum(p.numel() for p in model.neck.parameters()) == 3_033_728
    bns = [m for m in model.backbone.modules()
           if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(m.eps == 1e-5 and m.momentum == 0.1 for m in bns)
    assert model.feat_dim == 128


MBV3_ANY = sorted(
    str(p.relative_to(REPO)) for p in (REPO / 'configs').rglob('*.py')
    if '_base_' not in p.parts
    and ('mbv3' in p.name or 'mobilenet-v3' in p.name))


def test_every_mobilenet_v3_config_has_the_official_batchnorm():
    """CIFAR and ImageNet, training and evaluation: SEED's student uses
    nn.BatchNorm2d's defaults (momentum 0.1, eps 1e-5), not mmpretrain's
    MobileNetV3 ones (0.01, 1e-3), which collapse a short run's eval-mode
    features (docs/results.md, "MobileNetV3-L's BatchNorm")."""
    assert len(MBV3_ANY) >= 10
    for path in MBV3_ANY:
        backbone = Config.fromfile(REPO / path).model.backbone
        assert backbone.type == 'MobileNetV3', path
        assert backbone.norm_cfg == dict(type='BN', eps=1e-5,
                                         momentum=0.1), path


@pytest.mark.parametrize('path', EFFB0)
def test_efficientnet_b0_student_is_the_official_one(path):
    """EfficientNet-PyTorch 0.7.0 b0 (seed/architectures/efficientnet):
    dropout 0.2 before fc, fc replaced by SEED's MLP; BN momentum 0.01
    (TF 0.99), eps 1e-3; drop-connect 0.2."""
    cfg, model = student(path)
    assert layer_kinds(model.neck) == ['Dropout', 'Linear', 'ReLU', 'Linear']
    assert model.neck.mlp[0].p == 0.2
    assert linear_shapes(model.neck) == [(1280, 1280), (1280, 128)]
    assert sum(p.numel() for p in model.neck.parameters()) == 1_803_648
    bns = [m for m in model.backbone.modules()
           if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(m.eps == 1e-3 and m.momentum == 0.01 for m in bns)
    assert cfg.model.backbone.drop_path_rate == 0.2
    rates = [m.drop_prob for m in model.backbone.modules()
             if type(m).__name__ == 'DropPath']
    assert rates and max(rates) == pytest.approx(0.2)


def official_lr(epoch, batch, epochs, lr=0.03, warmup=5):
    """tools/utils.py adjust_learning_rate (lr_mult = batch / 256)."""
    mult = batch / 256
    if epoch < warmup:
        return lr + (lr * mult - lr) / warmup * epoch
    return lr * mult * 0.5 * (1. + math.cos(math.pi * epoch / epochs))


@pytest.mark.parametrize('path, epochs', [
    ('configs/seed/seed_r50_to_r18.py', 200),
    ('configs/seed/seed_r50_to_mbv3.py', 200),
    ('configs/seed/seed_r50w2-swav_to_effb0_small-patch-800e.py', 800),
    ('configs/seed/seed_r50w2-swav_to_mbv3_small-patch-800e.py', 800),
])
@pytest.mark.parametrize('batch', [256, 1024])
def test_learning_rate_follows_the_official_rule(path, epochs, batch):
    cfg = Config.fromfile(REPO / path)
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.auto_scale_lr == dict(base_batch_size=256, enable=True)
    # What mmengine's Runner.scale_lr does for a global batch `batch`.
    lr = cfg.optim_wrapper.optimizer.lr * batch / 256
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler, = [PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
                  for s in cfg.param_scheduler]
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    for epoch in (0, 4, 5, epochs - 1):
        assert lrs[epoch] == pytest.approx(
            official_lr(epoch, batch, epochs), rel=1e-12), epoch
