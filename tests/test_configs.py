"""Every config parses and builds its model."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'
EXPERIMENTS = sorted(p for p in CONFIGS.rglob('*.py') if '_base_' not in p.parts)
BACKBONES = sorted((CONFIGS / '_base_' / 'models').glob('*.py'))


def test_there_are_configs():
    assert len(EXPERIMENTS) >= 2 and len(BACKBONES) >= 9


@pytest.mark.parametrize('path', EXPERIMENTS, ids=lambda p: p.stem)
def test_config_builds_model(path):
    register_all_modules()
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmseed'
    # Evaluation-only configs (kNN) test a checkpoint; the rest train.
    keys = (('test_dataloader', 'test_evaluator', 'test_cfg')
            if cfg.get('train_cfg') is None else
            ('train_dataloader', 'optim_wrapper', 'train_cfg'))
    for key in keys:
        assert cfg.get(key) is not None, f'{path.name} lacks {key}'
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize('path', BACKBONES, ids=lambda p: p.stem)
def test_backbone_base_builds_with_stated_width(path):
    """Each backbone file's ``<name>_channels`` is its real output width."""
    import torch
    register_all_modules()
    cfg = Config.fromfile(path)
    name = path.stem
    backbone = MODELS.build(cfg[name])
    backbone.eval()  # some backbones' train() returns None, so no chaining
    size = 32 if name.endswith('_cifar') else 64
    if name.startswith('swin'):
        size = 224
    with torch.no_grad():
        out = backbone(torch.zeros(1, 3, size, size))[-1]
    assert out.shape[1] == cfg[f'{name}_channels']
