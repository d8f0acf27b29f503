"""Fixes for the pinned OpenMMLab stack on torch 2.14 (applied by ``mmseed``).

:func:`apply_patches` runs once, when ``mmseed`` is imported. Each patch first
checks that the installed package has the bug it works around, by trying the
installed function or reading the registry state, and does nothing otherwise;
calling it again is a no-op. A fix that can be a registered class named in a
config is one instead of a patch:

* crash-safe checkpoint saves (atomic writes, rotation after the save, an
  atomic ``last_checkpoint``): ``mmseed.CheckpointHook``
  (``mmseed/engine/hooks/checkpoint_hook.py``, named in
  ``configs/_base_/default_runtime.py``);
* ``torch.amp.GradScaler`` for mixed precision: ``mmseed.AmpOptimWrapper``
  (``mmseed/engine/optimizers/amp_optim_wrapper.py``, named by
  ``tools/train.py --amp``);
* CPU-only distributed runs: ``tools/train.py`` and ``tools/test.py`` start
  the gloo process group themselves
  (:func:`mmseed.utils.cli.start_cpu_process_group`).

What is left here has no config hook: the loader for local checkpoint files,
mmselfsup's registry locations and the auto-resume lookup are reached by
mmengine internally, whatever the config says. Three warnings filters, matching
one exact message each, drop notices that are not about the user's run.
"""
import argparse
import importlib.machinery
import importlib.util
import os
import os.path as osp
import re
import sys
import tempfile
import warnings

import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmseed.utils.checkpoint import (LAST_CHECKPOINT_FILE,
                                     find_latest_complete_checkpoint,
                                     load_checkpoint_file)

__all__ = ['apply_patches']

# mmcv-lite's notice, from mmcv/cnn/bricks/transformer.py, that its compiled
# ops (MultiScaleDeformableAttention) are missing.
_MMCV_LITE_NOTICE = (
    'Fail to import ``MultiScaleDeformableAttention`` from '
    '``mmcv.ops.multi_scale_deform_attn``, You should install ``mmcv`` rather '
    'than ``mmcv-lite`` if you need this module. ')
# mmcv's adjust_color, from mmcv/image/photometric.py, on every pillow call.
_PILLOW_ALPHA_NOTICE = "Only use 'alpha' for pillow backend."
# mmcv's HSigmoid, from mmcv/cnn/bricks/hsigmoid.py, on every construction
# (each squeeze-excitation layer of a MobileNetV3 or EfficientNet).
_HSIGMOID_NOTICE = (
    'In MMCV v1.4.4, we modified the default value of args to align with '
    'PyTorch official. Previous Implementation: Hsigmoid(x) = min(max((x + '
    '1) / 2, 0), 1). Current Implementation: Hsigmoid(x) = min(max((x + 3) '
    '/ 6, 0), 1).')


def _filter_known_warnings() -> None:
    """Drop three notices that runs printed and none is about the run.

    * mmcv-lite 2.0.1 warns on every import of ``mmcv.cnn.bricks.transformer``
      (which mmpretrain's models import) that ``MultiScaleDeformableAttention``
      needs the full ``mmcv``. No mmseed model uses it, and a config that
      names it fails with the registry's "not registered" error anyway.
    * mmcv 2.0.1's ``adjust_color`` warns "Only use 'alpha' for pillow
      backend." on every call with the pillow backend, even when only
      ``alpha`` is given: mmpretrain's ``ColorJitter`` (pillow by default)
      passes only ``alpha``, so nothing is dropped.
    * mmcv 2.0.1's ``HSigmoid`` recalls, on every construction, a change of
      its defaults in mmcv 1.4.4; mmpretrain's MobileNetV3 builds one per
      squeeze-excitation layer.

    Each filter matches the whole message, its category and the module that
    warns, so no other warning is hidden. They are installed before mmcv's
    modules are imported by mmseed.
    """
    for message, module in (
        (_MMCV_LITE_NOTICE, r'mmcv\.cnn\.bricks\.transformer'),
        (_PILLOW_ALPHA_NOTICE, r'mmcv\.image\.photometric'),
        (_HSIGMOID_NOTICE, r'mmcv\.cnn\.bricks\.hsigmoid'),
    ):
        warnings.filterwarnings('ignore', message=re.escape(message) + r'\Z',
                                category=UserWarning, module=module + r'\Z')


def _local_loader_is_unsafe() -> bool:
    """Whether the installed loader for local files mishandles checkpoints.

    It is tried on two small files: one like mmengine's own training
    checkpoints (a log ``HistoryBuffer``), which must load, and one holding a
    pickled object of another class, which must be refused. True, too, if
    the probe files cannot be written.
    """
    loader = CheckpointLoader._get_checkpoint_loader('probe.pth')
    try:
        with tempfile.TemporaryDirectory() as folder:
            own = osp.join(folder, 'own.pth')
            foreign = osp.join(folder, 'foreign.pth')
            torch.save({'message_hub': {'loss': HistoryBuffer([1.0], [1])}},
                       own)
            torch.save({'meta': argparse.Namespace(probe=1)}, foreign)
            try:
                loader(own, 'cpu')
            except Exception:  # noqa: BLE001 (any failure is the bug)
                return True
            try:
                loader(foreign, 'cpu')
            except Exception:  # noqa: BLE001 (refused: safe)
                return False
    except OSError:  # no temporary folder: assume the bug
        return True
    return True


def _patch_local_checkpoint_loader() -> None:
    """Route mmengine's local-file checkpoint loading through mmseed's loader.

    Bug: mmengine 0.10.7's ``load_from_local`` calls ``torch.load(filename)``
    with torch's ``weights_only`` default. Since torch 2.6 that default is
    True, and mmengine's own training checkpoints (with log
    ``HistoryBuffer`` objects) fail to load, which breaks ``--resume``; with
    the older default any pickled object is unpickled (and can run code).

    Detection: the installed local loader is tried on a checkpoint like
    mmengine's own and on one holding a foreign pickled object
    (:func:`_local_loader_is_unsafe`); the patch applies when the first fails
    or the second loads.

    Fix: :func:`load_checkpoint_file` becomes the loader for local paths
    (``CheckpointLoader.register_scheme``, mmengine's extension point), so
    resume, ``load_from``, ``Pretrained`` init and teachers all load with
    ``weights_only=True``, the harmless objects mmengine writes allow-listed,
    and any failure a one-line error that names the opt-in for trusted legacy
    files. No config names the loader: mmengine picks it by the path's prefix.
    """
    if not _local_loader_is_unsafe():
        return

    def load_from_local(filename, map_location):
        return load_checkpoint_file(filename, map_location=map_location)

    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local,
                                     force=True)


def _module_exists(name: str) -> bool:
    """Whether module ``name`` can be imported, without importing it (only
    its parent packages are imported)."""
    if name in sys.modules:
        return True
    package, _, leaf = name.rpartition('.')
    if not package:
        return importlib.util.find_spec(name) is not None
    try:
        parent = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        return False
    if parent is None or parent.submodule_search_locations is None:
        return False
    return importlib.machinery.PathFinder.find_spec(
        leaf, parent.submodule_search_locations) is not None


def _patch_mmselfsup_registry_locations() -> None:
    """Point mmselfsup's registries at modules that exist.

    Bug: mmselfsup 1.0.0 declares ``locations=['mmselfsup.engine.runner']``
    for its RUNNERS, RUNNER_CONSTRUCTORS and LOOPS registries, a module that
    does not exist, so a config with ``default_scope='mmselfsup'`` crashes
    with ``ModuleNotFoundError`` when the runner builds its loops.

    Detection: every location of every registry in ``mmselfsup.registry`` is
    looked up (without importing it); only those that do not exist change,
    to their parent package (``mmselfsup.engine``: mmselfsup's runner
    components are mmengine's, reached through the parent registries).
    Nothing happens without mmselfsup or when all locations exist.

    No config can fix this: the registry imports its locations itself as soon
    as a lookup in the ``mmselfsup`` scope happens.
    """
    if importlib.util.find_spec('mmselfsup') is None:
        return
    from mmengine.registry import Registry
    from mmselfsup import registry
    for reg in vars(registry).values():
        if not isinstance(reg, Registry) or reg.scope != 'mmselfsup':
            continue
        fixed = [
            loc if _module_exists(loc) else loc.rpartition('.')[0]
            for loc in reg._locations
        ]
        if fixed != reg._locations:
            reg._locations = [loc for loc in fixed if loc]


def _stock_resume_trusts_pointer(find_latest_checkpoint) -> bool:
    """Whether ``find_latest_checkpoint`` returns a ``last_checkpoint``
    pointer that names a missing file (True, too, if the probe cannot be
    written)."""
    try:
        with tempfile.TemporaryDirectory() as folder:
            missing = osp.join(folder, 'epoch_1.pth')
            # os.open, not open(): test_crash_safety's fault injector wraps
            # open() to count the run's own pointer writes.
            fd = os.open(osp.join(folder, LAST_CHECKPOINT_FILE),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, missing.encode())
            finally:
                os.close(fd)
            return find_latest_checkpoint(folder) == missing
    except OSError:
        return True


def _patch_auto_resume() -> None:
    """Make ``--resume auto`` pick the newest *complete* checkpoint.

    Bug: mmengine 0.10.7's ``find_latest_checkpoint`` returns whatever
    ``last_checkpoint`` names, so a pointer to a truncated or missing file
    (from an older run killed mid-save, or a partly copied folder) makes the
    resume fail.

    Detection: the installed function is given a work dir whose pointer
    names a missing file (:func:`_stock_resume_trusts_pointer`); the patch
    applies when it returns that name.

    Fix: ``Runner.load_or_resume`` (and ``FlexibleRunner``'s, and the
    strategies') call it through their modules' own imported names, which
    are rebound to :func:`find_latest_complete_checkpoint`. No config names
    it, and a registered Runner subclass would have to re-implement
    ``load_or_resume`` around the inline call.
    """
    import mmengine.runner as runner_package
    from mmengine.runner import _flexible_runner, checkpoint, runner
    modules = (checkpoint, runner, _flexible_runner, runner_package)
    if all(module.find_latest_checkpoint is find_latest_complete_checkpoint
           for module in modules):
        return
    if not _stock_resume_trusts_pointer(checkpoint.find_latest_checkpoint):
        return
    for module in modules:
        module.find_latest_checkpoint = find_latest_complete_checkpoint


def apply_patches() -> None:
    """Apply every compatibility fix that the installed packages need
    (idempotent)."""
    _filter_known_warnings()
    _patch_local_checkpoint_loader()
    _patch_mmselfsup_registry_locations()
    _patch_auto_resume()
