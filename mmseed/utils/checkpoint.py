"""Loading checkpoint files without executing pickled code.

Every checkpoint mmseed reads (resume, ``load_from``, ``Pretrained`` init,
teachers) goes through :func:`load_checkpoint_file`. It calls ``torch.load`` with
``weights_only=True``: tensors, containers and plain Python values load, and
arbitrary pickled objects, which can run code when unpickled, are refused.
mmengine's own training checkpoints also hold a few harmless objects (its log
``HistoryBuffer`` with numpy arrays), which are allow-listed by name.

A trusted legacy file that needs full unpickling loads after an explicit opt-in:
the environment variable ``MMSEED_ALLOW_PICKLE=1``.
"""
import os
import pickle
import re
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

__all__ = ['ALLOW_PICKLE_ENV', 'CheckpointError', 'load_checkpoint_file']

ALLOW_PICKLE_ENV = 'MMSEED_ALLOW_PICKLE'



def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``getattr`` while unpickling, for ``HistoryBuffer`` only.

    mmengine checkpoints pickle ``HistoryBuffer``'s statistics methods as
    ``getattr(HistoryBuffer, 'min')``. Allowing the real ``getattr`` would let a
    crafted file reach any attribute, so this resolves exactly those methods
    and refuses everything else.
    """
    if obj is HistoryBuffer and name in ('min', 'max', 'mean', 'current'):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'GLOBAL builtins.getattr on {type(obj).__name__}.{name} is not allowed')


# Objects that mmengine writes into its checkpoints (message hub log buffers
# and the numpy values inside them). They carry data only.
# numpy 2 renamed ``numpy.core`` to ``numpy._core``; files written under
# numpy 1 name the old path, so both spellings are allowed.
try:
    from numpy._core import multiarray as _np_multiarray
except ImportError:  # numpy < 2
    from numpy.core import multiarray as _np_multiarray
_SAFE_GLOBALS = [
    HistoryBuffer, np.ndarray, np.dtype,
    (_history_buffer_getattr, 'builtins.getattr')
] + [
    (getattr(_np_multiarray, name), f'{package}.multiarray.{name}')
    for name in ('_reconstruct', 'scalar')
    for package in ('numpy.core', 'numpy._core')
] + [
    type(np.dtype(name))
    for name in ('float64', 'float32', 'float16', 'int64', 'int32', 'int16',
                 'int8', 'uint8', 'bool')
]


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be used; the message says why and what to do."""


def _pickle_allowed() -> bool:
    return os.environ.get(ALLOW_PICKLE_ENV, '').lower() in ('1', 'true', 'yes')


def _last_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


def load_checkpoint_file(filename: Union[str, Path],
                         map_location: Optional[Union[str, Callable,
                                                      torch.device]] = 'cpu',
                         allow_pickle: Optional[bool] = None) -> Any:
    """Load a local checkpoint file safely.

    Args:
        filename (str | Path): Path of the file.
        map_location: Same as :func:`torch.load`. Defaults to ``'cpu'``.
        allow_pickle (bool, optional): Fall back to full unpickling when the
            file holds objects beyond tensors and plain values. ``None`` reads
            the ``MMSEED_ALLOW_PICKLE`` environment variable. Only for files
            you trust: unpickling can execute arbitrary code.

    Returns:
        Any: What the file holds (usually a dict).

    Raises:
        CheckpointError: The file is missing, unreadable or truncated, or it
            needs full unpickling and that was not allowed.
    """
    path = Path(filename)
    if not path.is_file():
        raise CheckpointError(
            f'checkpoint not found: {path} (check the path, e.g. the '
            'teacher checkpoint or load_from in your config)')
    if allow_pickle is None:
        allow_pickle = _pickle_allowed()
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            return torch.load(path, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r'GLOBAL ([\w.]+)', str(err))
        if not found:  # not a pickled object: a broken or foreign file
            raise CheckpointError(
                f'cannot read checkpoint {path}: {_last_line(err)} (the '
                'file is not a PyTorch checkpoint; use another one)') from None
        what = found.group(1)
        if not allow_pickle:
            raise CheckpointError(
                f'{path} holds pickled Python objects ({what}), which could '
                'run code when loaded, so it was not loaded. If you trust '
                f'this file, set {ALLOW_PICKLE_ENV}=1 to load it once, or '
                'convert it to a plain state dict with '
                'tools/model_converters/') from None
        print_log(
            f'{ALLOW_PICKLE_ENV} is set: fully unpickling {path} ({what}).',
            logger='current')
    except Exception as err:  # torch raises many types for broken files
        raise CheckpointError(
            f'cannot read checkpoint {path}: {_last_line(err)} '
            '(the file is truncated, e.g. by an interrupted save, or is not '
            'a PyTorch checkpoint; use another checkpoint)') from None
    return torch.load(path, map_location=map_location, weights_only=False)
