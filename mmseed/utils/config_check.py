"""Checks on a loaded config that catch common mistakes before training starts.

mmengine ignores unknown top-level keys and reports missing data or bad module
arguments from deep inside the run; these checks turn them into one-line errors
that say what to fix.
"""
import difflib
import inspect
import re
from pathlib import Path
from typing import Optional

from mmengine.config import Config

__all__ = ['ConfigError', 'check_config', 'explain_build_error']


class ConfigError(ValueError):
    """A config is wrong; the message says which key and how to fix it."""


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


def _check_data_roots(cfg: Config, for_training: bool) -> None:
    """Check that the folders a dataloader reads exist and are not empty."""
    names = _DATALOADERS if not for_training else ('train_dataloader', )
    for name in names:
        loader = cfg.get(name)
        if not loader or not loader.get('dataset'):
            continue
        dataset = loader.dataset
        while 'dataset' in dataset:  # wrappers such as RepeatDataset
            dataset = dataset.dataset
        root = dataset.get('data_root', '') or ''
        prefix = dataset.get('data_prefix', '') or ''
        if isinstance(prefix, dict):
            prefix = prefix.get('img_path', prefix.get('img', '')) or ''
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


def _check_teacher_checkpoint(cfg: Config) -> None:
    """Check that a distillation teacher's checkpoint file exists."""
    teacher = cfg.get('model', {}).get('teacher')
    path = teacher.get('checkpoint') if isinstance(teacher, dict) else None
    if path and not Path(path).is_file():
        raise ConfigError(
            f'teacher checkpoint not found: {path}; train or download the '
            'teacher and set --cfg-options model.teacher.checkpoint=PATH')


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
    _check_data_roots(cfg, for_training)
    if for_training:
        _check_teacher_checkpoint(cfg)


_UNEXPECTED_KWARG = re.compile(
    r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'")


def explain_build_error(err: Exception) -> Optional[str]:
    """Turn a module-build error caused by a config typo into one line.

    A misspelled module argument surfaces as ``TypeError: X.__init__() got an
    unexpected keyword argument 'y'`` (possibly wrapped by mmengine). This
    returns a message naming the key and its closest
    valid spelling, or ``None`` for any other error.

    Args:
        err (Exception): The error raised while building the runner.

    Returns:
        str | None: The explanation, if ``err`` is a config typo.
    """
    if not isinstance(err, TypeError):
        return None
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
