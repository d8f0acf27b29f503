"""Reading and writing checkpoint files safely.

Every checkpoint mmseed reads (resume, ``load_from``, ``Pretrained`` init,
teachers) goes through :func:`load_checkpoint_file`. It calls ``torch.load`` with
``weights_only=True``: tensors, containers and plain Python values load, and
arbitrary pickled objects, which can run code when unpickled, are refused.
mmengine's own training checkpoints also hold a few harmless objects (its log
``HistoryBuffer`` with numpy arrays), which are allow-listed by name.

A trusted legacy file that needs full unpickling loads after an explicit opt-in:
the environment variable ``MMSEED_ALLOW_PICKLE=1``.

Every checkpoint mmseed's ``CheckpointHook`` saves goes through
:func:`atomic_write` (``mmseed/engine/hooks/checkpoint_hook.py``), and the
converters in ``tools/model_converters`` write through
:func:`atomic_torch_save`: a process killed during a save leaves at most a
hidden ``.<name>.<random>.tmp`` file beside the old checkpoints, never a
truncated file under a checkpoint's name.
:func:`find_latest_complete_checkpoint` is what ``--resume auto`` uses: it
skips a missing or truncated "latest" checkpoint, e.g. one left by an older,
non-atomic run, and takes the newest complete one.
"""
import contextlib
import io
import logging
import os
import os.path as osp
import pickle
import re
import secrets
import zipfile
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

from mmseed.errors import CheckpointError

__all__ = [
    'ALLOW_PICKLE_ENV', 'CheckpointError', 'atomic_torch_save', 'atomic_write',
    'checkpoint_problem', 'find_latest_complete_checkpoint',
    'load_checkpoint_file', 'remove_unfinished_saves'
]

ALLOW_PICKLE_ENV = 'MMSEED_ALLOW_PICKLE'
# The file mmengine's CheckpointHook writes into the work dir: the path of the
# last checkpoint it saved.
LAST_CHECKPOINT_FILE = 'last_checkpoint'
# Names mmengine's CheckpointHook gives checkpoints by default
# (``filename_tmpl`` 'epoch_{}.pth' or 'iter_{}.pth').
_CHECKPOINT_NAME = re.compile(r'(epoch|iter)_(\d+)\.pth')
# atomic_write writes '<folder>/.<name>.<hex token>.tmp', then renames it.
_TEMP_TOKEN_BYTES = 4
# Such a temporary file of a checkpoint or of the pointer.
_UNFINISHED_SAVE = re.compile(
    rf'\.(?:{_CHECKPOINT_NAME.pattern}|{re.escape(LAST_CHECKPOINT_FILE)})'
    rf'\.[0-9a-f]{{{2 * _TEMP_TOKEN_BYTES}}}\.tmp')


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


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; elsewhere a no-op)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(data: Union[bytes, str], filename: Union[str, Path]) -> None:
    """Write a file so that it is never seen half-written under its name.

    The data goes to a hidden temporary file in the same folder, which is
    flushed and fsynced and then renamed onto ``filename`` with
    :func:`os.replace` (atomic on POSIX and Windows within one file system).
    A process killed at any point leaves either the old file or the new one
    under ``filename``, plus at most a stale ``.<name>.<random>.tmp`` file.

    Args:
        data (bytes | str): The content; ``str`` is written as UTF-8.
        filename (str | Path): Where to write. Missing folders are created.
    """
    path = Path(filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8')
    token = secrets.token_hex(_TEMP_TOKEN_BYTES)
    tmp = path.with_name(f'.{path.name}.{token}.tmp')
    try:
        # 'x': a new file with the usual permissions (0o666 minus umask).
        with open(tmp, 'xb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_torch_save(obj: Any, filename: Union[str, Path]) -> None:
    """``torch.save(obj, filename)`` through :func:`atomic_write`: the file
    holds its old content or the complete new one, never a part.

    Args:
        obj (Any): What to save, e.g. ``{'state_dict': ..., 'meta': ...}``.
        filename (str | Path): Where to write. Missing folders are created.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(buffer.getvalue(), filename)


def checkpoint_problem(filename: Union[str, Path]) -> Optional[str]:
    """Say why a file is not a complete checkpoint, or ``None`` if it is.

    A checkpoint written by ``torch.save`` is a zip archive whose central
    directory is written last, so a truncated file lacks it or has members
    that reach past its end. This checks that structure without reading the
    tensors (cheap even for large files); loading may still fail for other
    reasons (e.g. pickled objects), with :class:`CheckpointError`'s message.

    Args:
        filename (str | Path): Path of the checkpoint.

    Returns:
        str | None: A short reason (``'missing'``, ``'truncated or not a
        PyTorch checkpoint (...)'``), or ``None`` for a complete file.
    """
    path = Path(filename)
    if not path.is_file():
        return 'missing'
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as err:
        return f'truncated or not a PyTorch checkpoint ({_last_line(err)})'
    if not any(m.filename.endswith('data.pkl') for m in members):
        return 'not a PyTorch checkpoint (no data.pkl in the archive)'
    if any(m.header_offset + m.compress_size > size for m in members):
        return 'truncated (archive members reach past the end of the file)'
    return None


def _checkpoints_newest_first(folder: Path) -> list:
    """``epoch_N.pth``/``iter_N.pth`` files in ``folder``, highest N first
    (ties broken by modification time)."""
    found = []
    for path in folder.glob('*.pth'):
        match = _CHECKPOINT_NAME.fullmatch(path.name)
        if match and path.is_file():
            found.append((int(match.group(2)), path.stat().st_mtime, path))
    return [path for *_, path in sorted(found, reverse=True)]


def _warn(message: str) -> None:
    print_log(message, logger='current', level=logging.WARNING)


def remove_unfinished_saves(folder: Union[str, Path]) -> list:
    """Delete the temporary files that saves killed midway left in
    ``folder`` (``.epoch_N.pth.<hex>.tmp``, ``.last_checkpoint.<hex>.tmp``),
    logging their names. They never became a checkpoint, so nothing written
    is lost; a checkpoint-sized one would otherwise stay on disk.

    Args:
        folder (str | Path): A run's work dir.

    Returns:
        list: The paths removed.
    """
    removed = []
    for path in sorted(Path(folder).glob('.*.tmp')):
        if _UNFINISHED_SAVE.fullmatch(path.name) and path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    if removed:
        print_log(f'Removed {len(removed)} unfinished save(s) of an '
                  f'interrupted run: {", ".join(map(str, removed))}',
                  logger='current')
    return removed


def find_latest_complete_checkpoint(
        work_dir: Union[str, Path]) -> Optional[str]:
    """The checkpoint ``--resume auto`` resumes from: the newest complete one.

    Same contract as mmengine's ``find_latest_checkpoint``: the path named by
    ``<work_dir>/last_checkpoint`` is returned when that file is complete
    (remote paths such as ``s3://`` are returned unchecked). When the pointer
    is missing, empty, or names a missing or truncated file (an older run
    killed mid-save, a partly copied folder), the newest complete
    ``epoch_N.pth``/``iter_N.pth`` in the pointer's folder or ``work_dir`` is
    returned instead, with a warning that names every file skipped. Only the
    temporary files of interrupted saves are deleted
    (:func:`remove_unfinished_saves`); skipped checkpoints stay.

    Args:
        work_dir (str | Path): The run's work dir.

    Returns:
        str | None: The checkpoint to resume from, or ``None`` when there is
        no complete one (training starts from scratch).
    """
    work_dir = Path(work_dir)
    remove_unfinished_saves(work_dir)
    pointer_file = work_dir / LAST_CHECKPOINT_FILE
    named = None
    if pointer_file.is_file():
        named = pointer_file.read_text(encoding='utf-8',
                                       errors='replace').strip() or None
    if named is not None and '://' in named:
        return named
    folders = [work_dir]
    skipped = []
    if named is not None:
        problem = checkpoint_problem(named)
        if problem is None:
            return named
        skipped.append(f'{named} ({problem})')
        folders.insert(0, Path(named).parent)
    elif pointer_file.is_file():
        skipped.append(f'{pointer_file} (empty)')

    seen = {osp.abspath(named)} if named is not None else set()
    for folder in folders:
        for path in _checkpoints_newest_first(folder):
            if osp.abspath(path) in seen:
                continue
            seen.add(osp.abspath(path))
            problem = checkpoint_problem(path)
            if problem is not None:
                skipped.append(f'{path} ({problem})')
                continue
            why = (f'skipped {"; ".join(skipped)}' if skipped else
                   f'{pointer_file} not found')
            _warn(f'Auto resume: {why}; resuming from the newest complete '
                  f'checkpoint {path} instead. Skipped files are left in '
                  'place.')
            return str(path)
    if skipped:
        _warn(f'Auto resume: skipped {"; ".join(skipped)}; no complete '
              f'checkpoint in {", ".join(map(str, dict.fromkeys(folders)))}, '
              'so training starts from scratch. Skipped files are left in '
              'place.')
    else:
        print_log('Did not find last_checkpoint to be resumed.',
                  logger='current')
    return None
