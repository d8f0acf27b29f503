"""A crash-safe ``CheckpointHook``: atomic writes, safe rotation and pointer.

mmengine 0.10.7's ``CheckpointHook`` can lose checkpoints when the process is
killed during a save:

* ``LocalBackend.put`` writes the bytes straight into the final name
  (``open(filepath, 'wb')``), so a kill mid-save leaves a truncated
  ``epoch_N.pth``;
* ``_save_checkpoint_with_step`` deletes the checkpoint that falls out of
  ``max_keep_ckpts`` *before* saving the new one, and rewrites
  ``last_checkpoint`` in place (``open(..., 'w')``), so a kill in between
  loses a checkpoint or leaves an empty pointer.

:class:`CheckpointHook` here is a subclass registered under the same name in
mmseed's ``HOOKS``: ``configs/_base_/default_runtime.py`` names it
(``type='mmseed.CheckpointHook'``), and any config with
``default_scope = 'mmseed'`` that says ``type='CheckpointHook'`` gets it too.
Local checkpoints are written through :class:`AtomicLocalBackend` (a file
backend registered with mmengine's fileio as ``'mmseed_atomic_local'``), the
old checkpoint is removed only after the new one is saved, and the pointer is
replaced atomically.
"""
import logging
import os.path as osp
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence, Union

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, get_file_backend, register_backend
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.logging import MMLogger

from mmseed.registry import HOOKS
from mmseed.utils.checkpoint import LAST_CHECKPOINT_FILE, atomic_write

__all__ = ['ATOMIC_BACKEND', 'AtomicLocalBackend', 'CheckpointHook']

# The name AtomicLocalBackend has in mmengine's file backends
# (``backend_args=dict(backend=ATOMIC_BACKEND)``).
ATOMIC_BACKEND = 'mmseed_atomic_local'

# What mmengine 0.10.7 logs when CheckpointHook.before_train and
# save_checkpoint build the deprecated FileClient, which they do not use
# without ``file_client_args``.
_UNUSED_FILE_CLIENT_NOTICES = (
    '"FileClient" will be deprecated in future.',
    '"HardDiskBackend" is the alias of "LocalBackend" and the former will be '
    'deprecated in future.',
)


class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose writes go through
    :func:`mmseed.utils.checkpoint.atomic_write` (temporary file, fsync,
    rename): a file is never seen half written under its name."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write ``obj`` to ``filepath`` atomically."""
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write the text ``obj`` to ``filepath`` atomically."""
        atomic_write(obj.encode(encoding), filepath)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


class _DropMessages(logging.Filter):
    """Drop log records whose message starts with one of ``prefixes``."""

    def __init__(self, prefixes: Sequence[str]) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


@contextmanager
def _without_messages(prefixes: Sequence[str]) -> Iterator[None]:
    """Drop these exact messages from the current mmengine logger."""
    logger = MMLogger.get_current_instance()
    drop = _DropMessages(prefixes)
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


@HOOKS.register_module()
class CheckpointHook(MMEngineCheckpointHook):
    """mmengine's ``CheckpointHook`` made crash safe; same arguments.

    A kill at any moment of a save leaves every ``epoch_N.pth`` /
    ``iter_N.pth`` complete and ``last_checkpoint`` naming a complete file:

    * checkpoints in a local folder are written through
      :class:`AtomicLocalBackend` (when neither ``backend_args`` nor the
      deprecated ``file_client_args`` is given; remote folders keep their
      backend);
    * ``last_checkpoint`` is replaced atomically after the save;
    * the checkpoint that falls out of ``max_keep_ckpts`` is removed only
      after that. The bookkeeping (``keep_ckpt_ids`` and ``last_ckpt`` in the
      message hub) is mmengine's, so the checkpoints' content is unchanged.

    Without ``file_client_args`` it also drops the two deprecation notices
    ("FileClient" / "HardDiskBackend" will be deprecated) that mmengine logs
    while it builds a FileClient it does not use, at the start of training
    and at the first save; nothing else is filtered.

    The ``save_best`` path is mmengine's (it deletes the previous best file
    before saving the new one); no mmseed config uses it.
    """

    @contextmanager
    def _quiet_unused_file_client(self) -> Iterator[None]:
        """mmengine builds a FileClient that it only uses with
        ``file_client_args``, and logs deprecation notices about it: they
        are dropped when this hook has no ``file_client_args``."""
        if self.file_client_args is not None:
            yield
            return
        with _without_messages(_UNUSED_FILE_CLIENT_NOTICES):
            yield

    def before_train(self, runner) -> None:
        """Resolve the output folder and pick the atomic backend for it."""
        with self._quiet_unused_file_client():
            super().before_train(runner)
        if (self.file_client_args is None and self.backend_args is None
                and type(self.file_backend) is LocalBackend):
            self.backend_args = dict(backend=ATOMIC_BACKEND)
            self.file_backend = get_file_backend(
                self.out_dir, backend_args=self.backend_args)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save ``filename_tmpl.format(step)``, then move the pointer, then
        remove the checkpoint that fell out of ``max_keep_ckpts``."""
        outdated = None
        # keep_ckpt_ids exists only with max_keep_ckpts > 0 (before_train).
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.file_backend.join_path(
                    self.out_dir,
                    self.filename_tmpl.format(self.keep_ckpt_ids.popleft()))
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        with self._quiet_unused_file_client():
            runner.save_checkpoint(
                self.out_dir,
                filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        if not is_main_process():
            return
        atomic_write(self.last_ckpt,
                     osp.join(runner.work_dir, LAST_CHECKPOINT_FILE))
        if outdated is None or outdated == self.last_ckpt:
            return
        if self.file_backend.isfile(outdated):
            self.file_backend.remove(outdated)
        elif self.file_backend.isdir(outdated):  # deepspeed saves folders
            self.file_backend.rmtree(outdated)
