"""Check a benchmark's inputs before it trains; tools/benchmarks/*.sh run it.

    python tools/benchmarks/preflight.py CONFIG [--checkpoint PATH] \\
        [tools/train.py options]

It reads the config as ``tools/train.py`` would (same options) and stops with
one ``error:`` line, exit status 2, on what would otherwise fail late or
silently:

* the checkpoint does not fit the config's backbone. mmengine's ``Pretrained``
  initialisation loads with ``strict=False`` and only logs what it could not
  load, so a checkpoint of another architecture, or one without
  ``backbone.*`` weights, would be "evaluated" from random weights;
* an annotation file (a label subset) is missing, malformed or names images
  that are not there (``check_config``), or labels an image differently from
  the class folder it is in (the test split is labelled by folder).

A missing training subset whose name says how it was drawn
(``train_10pct_seed0.txt``, ``train_50perclass_seed1.txt``: the names
tools/dataset_converters/make_label_subset.py gives) is drawn and written
here, so a CIFAR-10 semi-supervised benchmark needs no preparation step.

The checkpoint is ``--checkpoint``, else
``model.backbone.init_cfg.checkpoint``; its weights under the prefix of that
``init_cfg`` (default ``backbone.``) must be exactly the backbone's.
"""
import argparse
import importlib.util
import sys
from pathlib import Path
from typing import List, Optional, Sequence

TOOLS = Path(__file__).resolve().parents[1]
# Runs from a checkout without installing mmseed.
sys.path.insert(0, str(TOOLS.parent))

from mmseed.utils.checkpoint import (CheckpointError,  # noqa: E402
                                     load_checkpoint_file)
from mmseed.utils.cli import load_config, run_with_clear_errors  # noqa: E402
from mmseed.utils.config_check import (ConfigError,  # noqa: E402
                                       check_config, dataset_cfgs,
                                       image_prefix)

__all__ = [
    'check_backbone_checkpoint', 'check_subset_labels', 'draw_missing_subsets',
    'main'
]

_SHOWN = 3  # examples per kind of mismatch in a message


def _import_tool(relative: str):
    """Import a script under tools/ (not a package) as a module."""
    path = TOOLS / relative
    spec = importlib.util.spec_from_file_location(
        f'mmseed_tools_{path.stem}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _examples(items: List[str]) -> str:
    more = f', +{len(items) - _SHOWN} more' if len(items) > _SHOWN else ''
    return ', '.join(items[:_SHOWN]) + more


def check_backbone_checkpoint(backbone_cfg: dict, checkpoint: str,
                              prefix: str = 'backbone.') -> int:
    """Check that a checkpoint holds exactly the weights of a backbone.

    Args:
        backbone_cfg (dict): The backbone's config (``init_cfg`` is ignored).
        checkpoint (str): Path of the checkpoint; its ``state_dict`` (or the
            whole file, if it has none) is searched for ``prefix`` keys.
        prefix (str): Prefix of the backbone's weights in the checkpoint.
            Defaults to ``'backbone.'``.

    Returns:
        int: The number of tensors that will be loaded.

    Raises:
        CheckpointError: The file is unreadable, has no ``prefix`` weights, or
            its weights do not match the backbone's names and shapes.
    """
    from mmseed.registry import MODELS
    state = load_checkpoint_file(checkpoint)
    if isinstance(state, dict) and isinstance(state.get('state_dict'), dict):
        state = state['state_dict']
    if not isinstance(state, dict):
        raise CheckpointError(f'{checkpoint} holds a {type(state).__name__}, '
                              'not a state dict; use a model checkpoint')
    if not prefix.endswith('.'):
        prefix += '.'
    weights = {k[len(prefix):]: v for k, v in state.items()
               if isinstance(k, str) and k.startswith(prefix)}
    if not weights:
        raise CheckpointError(
            f"{checkpoint} has no '{prefix}*' weights (its first keys: "
            f'{_examples([str(k) for k in state])}); give an mmseed, '
            'mmpretrain or mmselfsup checkpoint, or convert an official MoCo/'
            'SimCLR/SwAV/torchvision file first: python '
            'tools/model_converters/convert_teacher.py SRC DST')
    cfg = {k: v for k, v in dict(backbone_cfg).items() if k != 'init_cfg'}
    expected = MODELS.build(cfg).state_dict()
    # BatchNorm fills in a missing counter itself (old checkpoints lack it).
    missing = [k for k in expected
               if k not in weights and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in weights if k not in expected]
    shapes = [
        f'{k}: checkpoint {tuple(weights[k].shape)} vs model '
        f'{tuple(expected[k].shape)}' for k in expected
        if k in weights and hasattr(weights[k], 'shape')
        and tuple(weights[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or shapes:
        found = [
            f'{len(items)} {what} ({_examples(items)})'
            for what, items in (('missing', missing),
                                ('unexpected', unexpected),
                                ('of another shape', shapes)) if items
        ]
        raise CheckpointError(
            f"the '{prefix}*' weights of {checkpoint} do not fit the "
            f"config's backbone ({cfg.get('type')}): {'; '.join(found)}; use "
            "the benchmark config of the checkpoint's architecture")
    return len(weights)


def draw_missing_subsets(cfg) -> List[str]:
    """Draw the training subset file if it is missing and its name says how.

    Args:
        cfg (Config): The loaded config.

    Returns:
        list[str]: What was written, one line per file.

    Raises:
        ConfigError: The file is missing and its name is not one that
            make_label_subset.py gives (the message says how to write it),
            or it cannot be drawn.
    """
    subsets = _import_tool('dataset_converters/make_label_subset.py')
    done = []
    for name, dataset, path, images in _ann_files(cfg):
        if path.is_file():
            continue
        drawn = subsets.parse_subset_file_name(path.name)
        if name != 'train_dataloader' or not drawn or not images.is_dir():
            raise ConfigError(
                f'annotation file not found: {path} ({name}.dataset.'
                f'ann_file); {_how_to_write(path, images, subsets)}')
        try:
            _, count = subsets.make_subset_file(
                images, drawn['fraction'], drawn['per_class'], drawn['seed'],
                out=path)
        except subsets.LabelSubsetError as err:
            raise ConfigError(f'{err} ({name}.dataset.ann_file)') from None
        done.append(f'wrote {path}: {count} labelled images drawn from '
                    f"{images} with seed {drawn['seed']}")
    return done


def check_subset_labels(cfg) -> List[str]:
    """Check that every annotation file's labels fit its class folders.

    ``check_config`` has checked that the files parse and that their images
    exist; this adds that an image in a class folder carries the label that
    ``CustomDataset`` gives that folder (the test split is read by folder).

    Raises:
        ConfigError: A label does not fit.
    """
    subsets = _import_tool('dataset_converters/make_label_subset.py')
    done = []
    for name, _, path, images in _ann_files(cfg):
        try:
            count = subsets.check_annotation(path, images)
        except subsets.LabelSubsetError as err:
            raise ConfigError(f'{err} ({name}.dataset.ann_file)') from None
        done.append(f'{path}: {count} labelled images, all present')
    return done


def _ann_files(cfg) -> List[tuple]:
    """(dataloader, dataset, annotation file, image folder) for every
    dataloader that reads an annotation file."""
    found = []
    for name, dataset in dataset_cfgs(cfg, for_training=False):
        ann_file = dataset.get('ann_file') or ''
        if not ann_file:
            continue
        root = Path(dataset.get('data_root') or '')
        prefix = image_prefix(dataset)
        path = Path(ann_file)
        found.append((name, dataset, path if path.is_absolute() else
                      root / path, root / prefix))
    return found


def _how_to_write(path: Path, images: Path, subsets) -> str:
    """How to write a missing annotation file, for an error message."""
    tool = 'python tools/dataset_converters/make_label_subset.py'
    if 'percent' in path.name:
        source = path.stem.split('_')[-1] + '.txt'
        return (f"write it from SimCLR's subset list ({source}, "
                f'{subsets.SIMCLR_SUBSETS_URL}): {tool} from-list {images} '
                f'{source} --out {path}')
    return (f'draw it with {tool} sample {images} --fraction F --seed S '
            f'--out {path}, or point data_root at the data it belongs to')


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the checks of a benchmark (the arguments of tools/train.py plus
    ``--checkpoint``); print what was checked or written."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--checkpoint')
    known, rest = parser.parse_known_args(argv)
    train = _import_tool('train.py')
    args = train.parse_args(rest)
    from mmseed.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = train.merge_args(load_config(args), args)
    for line in draw_missing_subsets(cfg):
        print(f'preflight: {line}')
    check_config(cfg, for_training=True)
    for line in check_subset_labels(cfg):
        print(f'preflight: {line}')

    backbone = cfg.model.get('backbone') or {}
    init_cfg = backbone.get('init_cfg') or {}
    if not isinstance(init_cfg, dict):
        init_cfg = {}
    checkpoint = known.checkpoint or init_cfg.get('checkpoint')
    if not checkpoint:
        raise ConfigError(
            f'no checkpoint to evaluate in {args.config}; pass one: bash '
            'tools/benchmarks/<linear|semi>.sh CONFIG CHECKPOINT, or '
            '--cfg-options model.backbone.init_cfg.checkpoint=PATH')
    count = check_backbone_checkpoint(backbone, checkpoint,
                                      init_cfg.get('prefix', 'backbone.'))
    print(f'preflight: {checkpoint}: {count} backbone tensors fit '
          f"{backbone.get('type')}")


if __name__ == '__main__':
    run_with_clear_errors(main)
