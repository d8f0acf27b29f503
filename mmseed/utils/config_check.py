"""Checks on a loaded config that catch common mistakes before training starts.

mmengine ignores unknown top-level keys and reports missing data or bad module
arguments from deep inside the run; these checks turn them into one-line errors
that say what to fix.

The checks here know no method: each module of the model config checks its
own settings with a ``check_config(cfg, key, setting)`` classmethod (a
distillation its embedding widths and queue, a teacher its checkpoint file),
which :func:`check_config` calls for every module it finds, with the key the
module sits under and the :class:`TrainingSetting` (batch, processes).
Modules of other packages get theirs through :func:`register_config_check`.
"""
import difflib
import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from mmengine.config import Config

from mmseed.errors import ConfigError

__all__ = [
    'ConfigError', 'TrainingSetting', 'check_config', 'check_model_config',
    'config_value', 'dataset_cfgs', 'explain_build_error', 'image_prefix',
    'register_config_check'
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


def config_value(cfg: Any, key: str) -> Any:
    """``cfg[key]``, or the default of that argument of ``cfg.type``.

    Args:
        cfg (dict): A module config with a ``type``.
        key (str): An argument of the module.

    Returns:
        Any: The value the module will get; None if unknown.
    """
    if key in cfg:
        return cfg[key]
    cls = _module_class(cfg)
    if cls is None:
        return None
    param = inspect.signature(cls).parameters.get(key)
    return None if param is None or param.default is param.empty \
        else param.default


def _module_class(cfg: Any) -> Optional[type]:
    """The class a module config builds, if a registry knows it."""
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    if not isinstance(kind, str):
        return kind if inspect.isclass(kind) else None
    from mmseed.registry import MODELS
    try:
        return MODELS.get(kind)
    except (KeyError, ImportError):
        return None


def _world_size(cfg: Config) -> int:
    """Number of training processes the launcher starts (1 without one)."""
    variable = {'pytorch': 'WORLD_SIZE', 'slurm': 'SLURM_NTASKS',
                'mpi': 'OMPI_COMM_WORLD_SIZE'}.get(cfg.get('launcher'))
    try:
        return max(1, int(os.environ.get(variable, 1))) if variable else 1
    except ValueError:
        return 1


@dataclass(frozen=True)
class TrainingSetting:
    """What a training run will be, for the modules' own config checks.

    Attributes:
        batch_size (int | None): ``train_dataloader.batch_size`` (per
            process), None if the config does not say.
        world_size (int): Training processes the launcher starts.
    """
    batch_size: Optional[int]
    world_size: int

    @classmethod
    def of(cls, cfg: Config) -> 'TrainingSetting':
        batch = (cfg.get('train_dataloader') or {}).get('batch_size')
        ok = isinstance(batch, int) and batch >= 1
        return cls(batch if ok else None, _world_size(cfg))

    @property
    def global_batch(self) -> Optional[int]:
        """Images per step over all processes (None if unknown)."""
        return None if self.batch_size is None else \
            self.batch_size * self.world_size

    @property
    def global_batch_source(self) -> str:
        """``'global batch 80 = train_dataloader.batch_size 16 x 5
        process(es)'``, for messages."""
        return (f'global batch {self.global_batch} = train_dataloader.'
                f'batch_size {self.batch_size} x {self.world_size} '
                'process(es)')


# Checks of module types that mmseed does not define (e.g. mmpretrain's
# algorithms), registered by the mmseed module that knows them.
_EXTERNAL_CHECKS: Dict[str, List[Callable]] = {}


def register_config_check(*type_names: str) -> Callable:
    """Register ``check(cfg, key, setting)`` for configs of other packages'
    module types, named without scope (``'MoCo'``).

    mmseed's own modules check their config with a ``check_config``
    classmethod of the same signature instead.
    """

    def register(check: Callable) -> Callable:
        for name in type_names:
            _EXTERNAL_CHECKS.setdefault(name, []).append(check)
        return check

    return register


def _type_name(cfg: dict) -> str:
    kind = cfg.get('type', '')
    return kind.rsplit('.', 1)[-1] if isinstance(kind, str) else \
        getattr(kind, '__name__', '')


def _check_modules(cfg: Config) -> None:
    """Let every module of the model config check its own settings.

    A module's parts are checked before the module (a teacher's checkpoint
    before the distillation's widths), each with the key it sits under.
    """
    setting = TrainingSetting.of(cfg)

    def walk(node: Any, key: str) -> None:
        if isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                walk(item, f'{key}[{i}]')
            return
        if not isinstance(node, dict):
            return
        for name, value in node.items():
            walk(value, f'{key}.{name}')
        if 'type' not in node:
            return
        own = getattr(_module_class(node), 'check_config', None)
        checks = [own] if callable(own) else []
        for check in checks + _EXTERNAL_CHECKS.get(_type_name(node), []):
            check(node, key, setting)

    walk(cfg.get('model'), 'model')


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
        _check_modules(cfg)


def check_model_config(cfg: Config) -> None:
    """The model checks of :func:`check_config` alone: registered types and
    each module's own ``check_config`` (no data is looked at).

    Args:
        cfg (Config): The loaded config.

    Raises:
        ConfigError: The first problem found.
    """
    _check_model_types(cfg)
    _check_modules(cfg)


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
