"""Fixes for the pinned OpenMMLab stack on torch 2.14 (imported by mmseed).

Each patch names the upstream behaviour it works around. They are applied once,
when ``mmseed`` is imported, and are no-ops where the bug is absent.
"""
import importlib.util

import torch
from mmengine.dist import utils as dist_utils
from mmengine.runner.checkpoint import CheckpointLoader

from mmseed.utils.checkpoint import load_checkpoint_file

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


def apply_patches() -> None:
    """Apply every compatibility patch (idempotent)."""
    _patch_local_checkpoint_loader()
    _patch_mmselfsup_registry_locations()
    _patch_cpu_distributed_init()
