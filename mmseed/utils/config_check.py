"""Checks on a loaded config that catch common mistakes before training starts.

mmengine ignores unknown top-level keys and reports missing data or bad module
arguments from deep inside the run; these checks turn them into one-line errors
that say what to fix.
"""
import difflib
import inspect
import os
import re
from pathlib import Path
from typing import Any, Iterator, Optional, Tuple

from mmengine.config import Config

from mmseed.errors import ConfigError

__all__ = [
    'ConfigError', 'check_config', 'dataset_cfgs', 'explain_build_error',
    'image_prefix'
]


# Top-level keys that mmengine's Runner.from_cfg reads.
RUNNER_KEYS = (
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name', 'cfg',
    'model_wrapper_cfg', 'find_unused_parameters', 'runner_type', 'compile',
    'strategy')

_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _check_top_level_keys(cfg: Config) -> None:
    """Reject top-level keys that look like misspelled runner keys."""
    for key in cfg.keys():
        if key in RUNNER_KEYS:
            continue
        close = difflib.get_close_matches(key, RUNNER_KEYS, n=1, cutoff=0.85)
        if close:
            raise ConfigError(
                f"unknown config key '{key}': did you mean '{close[0]}'? "
                'mmengine would silently ignore it')


def dataset_cfgs(cfg: Config,
                  for_training: bool) -> Iterator[Tuple[str, Any]]:
    """Yield ``(dataloader name, innermost dataset config)`` to check."""
    names = _DATALOADERS if not for_training else ('train_dataloader', )
    for name in names:
        loader = cfg.get(name)
        if not loader or not loader.get('dataset'):
            continue
        dataset = loader.dataset
        while 'dataset' in dataset:  # wrappers such as RepeatDataset
            dataset = dataset.dataset
        yield name, dataset


def image_prefix(dataset: Any) -> str:
    """The ``data_prefix`` image folder of a dataset config, as written."""
    prefix = dataset.get('data_prefix', '') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path', prefix.get('img', '')) or ''
    return prefix


def _check_data_roots(cfg: Config, for_training: bool) -> None:
    """Check that the folders a dataloader reads exist and are not empty."""
    for name, dataset in dataset_cfgs(cfg, for_training):
        root = dataset.get('data_root', '') or ''
        prefix = image_prefix(dataset)
        folder = Path(root) / prefix
        if not (root or prefix):
            continue
        if not folder.is_dir() or not any(folder.iterdir()):
            state = 'is empty' if folder.is_dir() else 'not found'
            raise ConfigError(
                f"data folder '{folder}' {state} ({name}.dataset); prepare "
                'it (CIFAR-10: python tools/dataset_converters/'
                'prepare_cifar10.py) or point the config at your data with '
                f'--cfg-options {name}.dataset.data_root=PATH')


def _reads_custom_ann_file(dataset_type: Any) -> bool:
    """Whether a dataset type reads ``ann_file`` as mmpretrain's
    ``CustomDataset`` does (CustomDataset, ImageNet, ...)."""
    from mmpretrain.datasets import CustomDataset

    from mmseed.registry import DATASETS
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) \
        else dataset_type
    return (inspect.isclass(cls) and issubclass(cls, CustomDataset)
            and cls.load_data_list is CustomDataset.load_data_list)


def _check_ann_files(cfg: Config, for_training: bool) -> None:
    """Check that annotation files parse and name existing images."""
    from mmseed.datasets.ann_file import check_ann_file
    for name, dataset in dataset_cfgs(cfg, for_training):
        ann_file = dataset.get('ann_file')
        if not ann_file or not _reads_custom_ann_file(dataset.get('type')):
            continue
        root = os.path.expanduser(dataset.get('data_root', '') or '')
        ann_file = os.path.expanduser(ann_file)
        prefix = os.path.expanduser(image_prefix(dataset))
        # Paths join as in mmengine's BaseDataset._join_prefix.
        if root and not os.path.isabs(ann_file):
            ann_file = os.path.join(root, ann_file)
        if root and not os.path.isabs(prefix):
            prefix = os.path.join(root, prefix)
        if dataset.get('backend_args') or '://' in ann_file + prefix:
            continue  # remote storage: not checked here
        check_ann_file(ann_file, prefix, dataset.get('with_label', True),
                       where=f'{name}.dataset')


def _check_teacher_checkpoint(cfg: Config) -> None:
    """Check that a distillation teacher's checkpoint file exists."""
    teacher = cfg.get('model', {}).get('teacher')
    path = teacher.get('checkpoint') if isinstance(teacher, dict) else None
    if path and not Path(path).is_file():
        raise ConfigError(
            f'teacher checkpoint not found: {path}; train or download the '
            'teacher and set --cfg-options model.teacher.checkpoint=PATH')


def _init_arg(cfg: Any, key: str) -> Any:
    """``cfg[key]``, or the default of that argument of ``cfg.type``."""
    if key in cfg:
        return cfg[key]
    from mmseed.registry import MODELS
    cls = MODELS.get(cfg['type']) if isinstance(cfg.get('type'), str) \
        else cfg.get('type')
    if cls is None:
        return None
    param = inspect.signature(cls).parameters.get(key)
    return None if param is None or param.default is param.empty \
        else param.default


def _model_kind(model: Any) -> str:
    """The bare type name of a model config (``'mmselfsup.MoCo'`` -> MoCo)."""
    kind = model.get('type', '') if isinstance(model, dict) else ''
    return kind.rsplit('.', 1)[-1] if isinstance(kind, str) else \
        getattr(kind, '__name__', '')


def _world_size(cfg: Config) -> int:
    """Number of training processes the launcher starts (1 without one)."""
    variable = {'pytorch': 'WORLD_SIZE', 'slurm': 'SLURM_NTASKS',
                'mpi': 'OMPI_COMM_WORLD_SIZE'}.get(cfg.get('launcher'))
    try:
        return max(1, int(os.environ.get(variable, 1))) if variable else 1
    except ValueError:
        return 1


# Algorithms whose queue takes whole global batches and asserts that they
# divide its length (mmpretrain and mmselfsup MoCo/DenseCL,
# ``assert self.queue_len % batch_size == 0``).
_QUEUE_MULTIPLE_OF_BATCH = ('MoCo', 'MoCoV2', 'DenseCL')
# Algorithms whose queue wraps around and takes any global batch up to its
# length (mmseed's EmbeddingQueue).
_QUEUE_AT_LEAST_BATCH = ('SEED', )


def _check_queue_length(cfg: Config) -> None:
    """Check the model's queue length against the global batch size."""
    model = cfg.get('model')
    kind = _model_kind(model)
    if kind not in _QUEUE_MULTIPLE_OF_BATCH + _QUEUE_AT_LEAST_BATCH:
        return
    queue_len = _init_arg(model, 'queue_len')
    batch = (cfg.get('train_dataloader') or {}).get('batch_size')
    if not isinstance(queue_len, int) or not isinstance(batch, int) \
            or batch < 1:
        return
    world = _world_size(cfg)
    total = batch * world
    source = (f'global batch {total} = train_dataloader.batch_size {batch} x '
              f'{world} process(es)')
    if kind in _QUEUE_AT_LEAST_BATCH and queue_len < total:
        raise ConfigError(
            f'model.queue_len={queue_len} is smaller than the {source}: each '
            f'step enqueues the whole global batch, so set model.queue_len to '
            f'at least {total} or use a smaller batch')
    if kind in _QUEUE_MULTIPLE_OF_BATCH and queue_len % total:
        fit = -(-queue_len // total) * total
        raise ConfigError(
            f'{kind} needs model.queue_len={queue_len} to be a multiple of '
            f'the {source}: set model.queue_len={fit} or a batch size that '
            f'divides {queue_len}')


def _check_embedding_widths(cfg: Config) -> None:
    """Check that SEED's student and teacher embeddings have one width.

    Only the widths a config states (the necks' ``out_channels``) are known
    here; a teacher without a neck is checked at the first iteration.
    """
    model = cfg.get('model')
    if _model_kind(model) not in _QUEUE_AT_LEAST_BATCH:
        return
    feat_dim = _init_arg(model, 'feat_dim')
    teacher = model.get('teacher') or {}
    widths = {
        'student (model.neck.out_channels)':
        (model.get('neck') or {}).get('out_channels'),
        'teacher (model.teacher.neck.out_channels)':
        (teacher.get('neck') or {}).get('out_channels'),
    }
    widths = {k: v for k, v in widths.items() if isinstance(v, int)}
    if all(v == feat_dim for v in widths.values()):
        return
    stated = ', '.join(f'{k} {v}' for k, v in widths.items())
    raise ConfigError(
        f'SEED compares student and teacher embeddings of one width, but the '
        f'config gives {stated} and model.feat_dim {feat_dim}: set '
        'model.neck.out_channels, model.teacher.neck.out_channels and '
        'model.feat_dim to one value (the teacher\'s is fixed by its '
        'checkpoint)')


def _registered_names(registry) -> list:
    """Names in ``registry`` and its parents."""
    names = []
    while registry is not None:
        names += list(registry.module_dict)
        registry = registry.parent
    return names


def _check_model_types(cfg: Config) -> None:
    """Reject a model ``type`` no registry knows, with the closest name."""
    if cfg.get('default_scope', 'mmseed') not in (None, 'mmseed'):
        return  # other scopes have other registries
    from mmseed.registry import MODELS
    registries = _all_registries()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                walk(item, f'{path}[{i}]')
            return
        if not isinstance(node, dict):
            return
        kind = node.get('type')
        if isinstance(kind, str) and '.' not in kind and not any(
                registry.get(kind) is not None for registry in registries):
            close = difflib.get_close_matches(
                kind, _registered_names(MODELS), n=1, cutoff=0.75)
            hint = f"; did you mean '{close[0]}'?" if close else (
                '; is it registered and imported?')
            raise ConfigError(f"unknown type '{kind}' in {path}.type{hint}")
        for key, value in node.items():
            walk(value, f'{path}.{key}')

    walk(cfg.get('model'), 'model')


def check_config(cfg: Config, for_training: bool = True) -> None:
    """Run every check on ``cfg``.

    Args:
        cfg (Config): The loaded config, after ``--cfg-options``.
        for_training (bool): Check the training dataloader only (True) or
            every dataloader (False, for testing). Defaults to True.

    Raises:
        ConfigError: The first problem found.
    """
    _check_top_level_keys(cfg)
    _check_model_types(cfg)
    _check_data_roots(cfg, for_training)
    _check_ann_files(cfg, for_training)
    if for_training:
        _check_teacher_checkpoint(cfg)
        _check_embedding_widths(cfg)
        _check_queue_length(cfg)


_UNEXPECTED_KWARG = re.compile(
    r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'")
_MISSING_ARGS = re.compile(
    r"(\w+)\.__init__\(\) missing \d+ required (?:positional |keyword-only )?"
    r"arguments?: (.+)$")


def explain_build_error(err: Exception) -> Optional[str]:
    """Turn a module-build error caused by a config typo into one line.

    A misspelled module argument surfaces as ``TypeError: X.__init__() got an
    unexpected keyword argument 'y'``, a forgotten one as ``X.__init__()
    missing 1 required positional argument: 'y'`` (possibly wrapped by
    mmengine). This returns a message naming the key and, for a misspelling,
    its closest valid spelling, or ``None`` for any other error.

    Args:
        err (Exception): The error raised while building the runner.

    Returns:
        str | None: The explanation, if ``err`` is a config typo.
    """
    if not isinstance(err, TypeError):
        return None
    missing = _MISSING_ARGS.search(str(err))
    if missing:
        cls_name, keys = missing.groups()
        keys = re.findall(r"'(\w+)'", keys)
        return (f'the config of {cls_name} lacks the required key(s) '
                f'{", ".join(repr(k) for k in keys)}: add them to its dict')
    found = _UNEXPECTED_KWARG.search(str(err))
    if not found:
        return None
    cls_name, key = found.groups()
    hint = ''
    for registry in _all_registries():
        cls = registry.get(cls_name)
        if cls is None:
            continue
        params = list(inspect.signature(cls).parameters)
        close = difflib.get_close_matches(key, params, n=1)
        hint = (f"; did you mean '{close[0]}'?" if close else
                f'; valid keys: {", ".join(params)}')
        break
    return f"unknown config key '{key}' for {cls_name}{hint}"


def _all_registries():
    from mmseed import registry
    return [getattr(registry, name) for name in registry.__all__]
