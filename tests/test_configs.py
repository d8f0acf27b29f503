"""Every config parses and builds its model; every _base_ file parses and
defines what its users read."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import FUNCTIONS, Registry

import mmseed.registry
from mmseed.registry import HOOKS, MODELS
from mmseed.utils import register_all_modules

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'
EXPERIMENTS = sorted(p for p in CONFIGS.rglob('*.py') if '_base_' not in p.parts)
BACKBONES = sorted((CONFIGS / '_base_' / 'models').glob('*.py'))
BASES = sorted((CONFIGS / '_base_').rglob('*.py'))
# Where a `type` can be registered: mmseed's registries (with their mmpretrain
# and mmengine parents) and mmengine's FUNCTIONS (collate functions).
REGISTRIES = [r for r in vars(mmseed.registry).values()
              if isinstance(r, Registry)] + [FUNCTIONS]


def test_there_are_configs():
    assert len(EXPERIMENTS) >= 2 and len(BACKBONES) >= 9
    assert len(BASES) >= 30


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


def _types(node, where='cfg'):
    """(place, type name) of every ``type=<str>`` in a config tree."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield where, node['type']
        for key, value in node.items():
            yield from _types(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _types(value, f'{where}[{i}]')


def _check_dataset_base(cfg):
    """A dataset base defines a dataloader with a dataset and a pipeline."""
    loaders = [k for k in cfg if k.endswith('dataloader')]
    assert loaders, 'defines no *_dataloader'
    for key in loaders:
        loader = cfg[key]
        assert loader.batch_size > 0 and loader.dataset.type, key
        assert loader.dataset.pipeline, f'{key}.dataset has no pipeline'
    if 'train_dataloader' in cfg:  # the method configs read these too
        assert cfg.data_preprocessor and cfg.train_pipeline


def _check_schedule_base(cfg):
    """A schedule defines optimizer, schedulers, loop and lr scaling (linear
    auto_scale_lr, or a square-root rule stated as ``lr_scaling``); the
    schedulers cover the epochs without gaps; the optimizer builds."""
    import torch
    from mmengine.optim import build_optim_wrapper
    epochs = cfg.train_cfg.max_epochs
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop' and epochs > 0
    if cfg.get('lr_scaling') == 'sqrt':
        assert 'auto_scale_lr' not in cfg  # it would scale linearly
    else:
        assert cfg.auto_scale_lr.base_batch_size > 0
    start = 0
    for scheduler in cfg.param_scheduler:
        begin = scheduler.get('begin', 0)
        end = scheduler.get('end', epochs)
        assert scheduler.get('by_epoch', True), scheduler
        assert begin == start and begin < end <= epochs, scheduler
        if 'T_max' in scheduler:
            assert scheduler.T_max == end - begin, scheduler
        start = end
    assert start == epochs, 'the schedulers end before max_epochs'
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3),
                                torch.nn.BatchNorm2d(4))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper.param_groups


def _check_evaluation_base(cfg):
    for split in ('val', 'test'):
        for key in (f'{split}_dataloader', f'{split}_evaluator',
                    f'{split}_cfg'):
            assert cfg.get(key), f'defines no {key}'


def _check_runtime_base(cfg):
    assert cfg.default_scope == 'mmseed'
    from mmseed.engine.hooks import CheckpointHook
    # The crash-safe checkpoint hook, however a config names it.
    assert HOOKS.get(cfg.default_hooks.checkpoint.type) is CheckpointHook
    assert HOOKS.get('CheckpointHook') is CheckpointHook


def _check_model_base(cfg, name):
    assert MODELS.get(cfg[name].type) is not None
    assert cfg[f'{name}_channels'] > 0


@pytest.mark.parametrize('path', BASES,
                         ids=lambda p: str(p.relative_to(CONFIGS / '_base_')))
def test_base_file_parses_and_defines_what_users_read(path):
    """Every file under configs/_base_ (new ones included) parses, names only
    registered types, and defines the variables its kind of file provides.
    Backbones are built in test_backbone_base_builds_with_stated_width."""
    register_all_modules()
    cfg = Config.fromfile(path)
    unknown = [(where, name) for where, name in _types(cfg.to_dict())
               if not any(r.get(name) is not None for r in REGISTRIES)]
    assert not unknown, f'unregistered types: {unknown}'
    kind = path.parent.name
    if kind == 'datasets':
        _check_dataset_base(cfg)
    elif kind == 'schedules':
        _check_schedule_base(cfg)
    elif kind == 'evaluation':
        _check_evaluation_base(cfg)
    elif kind == 'models':
        _check_model_base(cfg, path.stem)
    elif path.name == 'default_runtime.py':
        _check_runtime_base(cfg)
    else:  # benchmarks: the model the benchmark configs complete
        assert kind == 'benchmarks', f'unknown kind of _base_ file: {path}'
        assert MODELS.get(cfg.model.type) is not None


METHOD_DIRS = sorted(p for p in CONFIGS.iterdir()
                     if p.is_dir() and p.name not in ('_base_', 'benchmarks'))


@pytest.mark.parametrize('folder', METHOD_DIRS, ids=lambda p: p.name)
def test_each_method_folder_has_a_readme_and_a_complete_metafile(folder):
    """OpenMMLab's model index: one metafile entry per config, each naming a
    config that exists and the folder's collection and README."""
    import yaml
    assert (folder / 'README.md').is_file()
    meta = yaml.safe_load((folder / 'metafile.yml').read_text())
    collections = {c['Name'] for c in meta['Collections']}
    for collection in meta['Collections']:
        assert (CONFIGS.parent / collection['README']).is_file()
    configs = [m['Config'] for m in meta['Models']]
    assert sorted(configs) == sorted(
        f'configs/{folder.name}/{p.name}' for p in folder.glob('*.py'))
    for model in meta['Models']:
        assert model['In Collection'] in collections, model['Name']
        assert model['Name'] == Path(model['Config']).stem
