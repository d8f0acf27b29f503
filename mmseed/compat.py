"""Fixes for the pinned OpenMMLab stack on torch 2.14 (imported by mmseed).

Each patch names the upstream behaviour it works around. They are applied once,
when ``mmseed`` is imported, and are no-ops where the bug is absent.

Three of them make training crash safe (mmengine 0.10.7 behaviour, replaced
outright): atomic checkpoint writes, a save order that never loses the last
complete checkpoint, and an auto resume that skips truncated checkpoints.
"""
import importlib.util
import os.path as osp

import torch
from mmengine.dist import is_main_process
from mmengine.dist import utils as dist_utils
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner.checkpoint import CheckpointLoader

from mmseed.utils.checkpoint import (LAST_CHECKPOINT_FILE, atomic_write,
                                     find_latest_complete_checkpoint,
                                     load_checkpoint_file)

__all__ = ['apply_patches']


def _patch_local_checkpoint_loader() -> None:
    """Route mmengine's local-file checkpoint loading through mmseed's loader.

    mmengine 0.10.7's ``load_from_local`` calls ``torch.load(filename)`` with
    torch's default, which became ``weights_only=True`` in torch 2.6: its own
    training checkpoints (with log ``HistoryBuffer`` objects) then fail to
    load, which breaks ``--resume``. Loading through
    :func:`load_checkpoint_file` keeps ``weights_only=True`` for every file
    (resume, ``load_from``, ``Pretrained`` init, teachers), allow-lists the
    harmless objects mmengine writes, and turns any other failure into a
    one-line error that names the opt-in for trusted legacy files.
    """

    def load_from_local(filename, map_location):
        return load_checkpoint_file(filename, map_location=map_location)

    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local,
                                     force=True)


def _patch_mmselfsup_registry_locations() -> None:
    """Point mmselfsup 1.0.0's runner/loop registries at a real module.

    mmselfsup 1.0.0 declares ``locations=['mmselfsup.engine.runner']`` for its
    RUNNERS, RUNNER_CONSTRUCTORS and LOOPS registries, a module that does not
    exist, so a config with ``default_scope='mmselfsup'`` crashes with
    ``ModuleNotFoundError`` when the runner builds its loops. Its runner
    components are mmengine's, reached through the parent registries, so the
    location becomes the existing ``mmselfsup.engine``.
    """
    if importlib.util.find_spec('mmselfsup') is None:
        return
    from mmselfsup import registry
    for reg in (registry.RUNNERS, registry.RUNNER_CONSTRUCTORS,
                registry.LOOPS):
        reg._locations = [
            'mmselfsup.engine' if loc == 'mmselfsup.engine.runner' else loc
            for loc in reg._locations
        ]


def _patch_cpu_distributed_init() -> None:
    """Let the pytorch launcher start CPU-only (gloo) process groups.

    mmengine 0.10.7's ``_init_dist_pytorch`` calls ``torch.cuda.set_device``
    before ``init_process_group`` whatever the backend, so a multi-process run
    on a machine without CUDA dies with "Found no NVIDIA driver". Without CUDA
    the process group is initialised directly (``tools/train.py`` picks gloo).
    """
    original = dist_utils._init_dist_pytorch
    if getattr(original, '_mmseed_patched', False):
        return

    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch._mmseed_patched = True
    dist_utils._init_dist_pytorch = init_dist_pytorch


def _patch_atomic_local_writes() -> None:
    """Write local files through :func:`atomic_write` (temp file + rename).

    mmengine 0.10.7's ``save_checkpoint`` serialises a checkpoint to memory
    and hands the bytes to ``LocalBackend.put``, which writes them straight
    into the final name (``open(filepath, 'wb')``): a run killed during the
    save leaves a truncated ``epoch_N.pth``. ``put`` is the one place every
    local checkpoint write passes through (``Runner.save_checkpoint``, the
    strategies, ``CheckpointHook``'s published models, ``fileio.dump``), so it
    becomes atomic there.
    """
    if getattr(LocalBackend.put, '_mmseed_patched', False):
        return

    def put(self, obj, filepath):
        atomic_write(obj, filepath)

    put._mmseed_patched = True
    LocalBackend.put = put


def _patch_checkpoint_hook_save_order() -> None:
    """Delete old checkpoints and move ``last_checkpoint`` only after a save.

    mmengine 0.10.7's ``CheckpointHook._save_checkpoint_with_step`` removes
    the checkpoint that falls out of ``max_keep_ckpts`` *before* saving the
    new one, then writes ``last_checkpoint`` in place with ``open(..., 'w')``:
    a kill in between loses a checkpoint or leaves an empty pointer. This
    version does the same bookkeeping (``keep_ckpt_ids`` and ``last_ckpt`` in
    the message hub, so the checkpoint's content is unchanged), saves, then
    replaces the pointer atomically, and only then removes the old file.
    """
    if getattr(CheckpointHook._save_checkpoint_with_step, '_mmseed_patched',
               False):
        return

    def save_checkpoint_with_step(self, runner, step, meta):
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

    save_checkpoint_with_step._mmseed_patched = True
    CheckpointHook._save_checkpoint_with_step = save_checkpoint_with_step


def _patch_auto_resume() -> None:
    """Make ``--resume auto`` pick the newest *complete* checkpoint.

    mmengine 0.10.7's ``find_latest_checkpoint`` returns whatever
    ``last_checkpoint`` names, so a pointer to a truncated or missing file
    (from an older run killed mid-save, or a partly copied folder) makes the
    resume fail. ``Runner.load_or_resume`` (and ``FlexibleRunner``'s) call it
    through their modules' own imported names, which are rebound to
    :func:`find_latest_complete_checkpoint`.
    """
    import mmengine.runner as runner_package
    from mmengine.runner import _flexible_runner, checkpoint, runner
    for module in (checkpoint, runner, _flexible_runner, runner_package):
        module.find_latest_checkpoint = find_latest_complete_checkpoint


def apply_patches() -> None:
    """Apply every compatibility patch (idempotent)."""
    _patch_local_checkpoint_loader()
    _patch_mmselfsup_registry_locations()
    _patch_cpu_distributed_init()
    _patch_atomic_local_writes()
    _patch_checkpoint_hook_save_order()
    _patch_auto_resume()
