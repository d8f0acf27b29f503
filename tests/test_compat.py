"""mmseed's fixes for the pinned stack, each through the path users reach.

Every test here fails on the unpatched stack (mmengine 0.10.7, mmselfsup
1.0.0, torch 2.14): it goes through mmengine's own entry point (its checkpoint
loader, ``Runner.load_or_resume``, ``Runner`` with the pytorch launcher, the
registries) and checks what a user gets. The crash-safe ``CheckpointHook`` is
tested in ``test_utils/test_checkpoint.py`` and
``test_tools/test_crash_safety.py``, the warnings in ``test_quiet_runs.py``.
"""
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

import mmseed  # noqa: F401  (applies the fixes)
from conftest import REPO
from mmseed import compat
from mmseed.utils.cli import start_cpu_process_group


class Toy(BaseModel):
    """The smallest model a Runner accepts."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.linear(inputs)


def _mmengine_style_checkpoint(path):
    """A checkpoint as mmengine's Runner writes it: with the message hub's
    log ``HistoryBuffer`` objects."""
    hub = MessageHub.get_instance('test_compat')
    hub.update_scalar('train/loss', 0.5)
    torch.save({'meta': {'epoch': 1}, 'state_dict': {'w': torch.ones(2)},
                'message_hub': hub.state_dict()}, path)


def test_mmengine_loads_its_own_training_checkpoints(tmp_path):
    """``load_from``/resume/``Pretrained`` read mmengine checkpoints (which
    mmengine 0.10.7's ``load_from_local`` cannot under torch >= 2.6)."""
    path = tmp_path / 'epoch_1.pth'
    _mmengine_style_checkpoint(path)
    loaded = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert 'train/loss' in loaded['message_hub']['log_scalars']


def test_loader_patch_is_gated_on_the_bug():
    # The installed mmengine's loader has the bug: the patch applies...
    assert CheckpointLoader._schemes[''] is not load_from_local
    original = CheckpointLoader._schemes['']
    try:
        CheckpointLoader.register_scheme('', load_from_local, force=True)
        assert compat._local_loader_is_unsafe()
        # ...and once mmseed's loader is in place the probe says it is safe,
        # so applying the patches again changes nothing.
        compat._patch_local_checkpoint_loader()
        patched = CheckpointLoader._schemes['']
        assert patched is not load_from_local
        assert not compat._local_loader_is_unsafe()
        compat.apply_patches()
        assert CheckpointLoader._schemes[''] is patched
    finally:
        CheckpointLoader.register_scheme('', original, force=True)


def test_auto_resume_skips_a_truncated_latest_checkpoint(tmp_path,
                                                         monkeypatch):
    """``Runner.load_or_resume`` (mmengine's code) resumes from the newest
    complete checkpoint when ``last_checkpoint`` names a truncated one."""
    work = tmp_path / 'work'
    work.mkdir()
    good, cut = work / 'epoch_1.pth', work / 'epoch_2.pth'
    _mmengine_style_checkpoint(good)
    _mmengine_style_checkpoint(cut)
    cut.write_bytes(cut.read_bytes()[:cut.stat().st_size // 2])
    (work / 'last_checkpoint').write_text(str(cut))
    runner = Runner(model=Toy(), work_dir=str(work), resume=True,
                    default_scope='mmseed',
                    experiment_name='test_compat_resume')
    resumed = []
    monkeypatch.setattr(runner, 'resume', resumed.append)
    runner.load_or_resume()
    assert resumed == [str(good)]


def _fresh_python(code):
    """Run ``code`` in a new interpreter (nothing imported or patched yet);
    return the words of its last line of output."""
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1].split()


def test_auto_resume_patch_is_gated_on_the_bug():
    """mmengine's own ``find_latest_checkpoint`` (taken before mmseed is
    imported) trusts a pointer to a missing file, mmseed's does not."""
    assert _fresh_python(
        'from mmengine.runner.checkpoint import find_latest_checkpoint\n'
        'from mmseed import compat\n'
        'from mmseed.utils.checkpoint import '
        'find_latest_complete_checkpoint as fixed\n'
        'from mmengine.runner import runner\n'
        'print(compat._stock_resume_trusts_pointer(find_latest_checkpoint),\n'
        '      compat._stock_resume_trusts_pointer(fixed),\n'
        '      runner.find_latest_checkpoint is fixed)\n') == [
            'True', 'False', 'True']


def test_mmselfsup_scope_builds_its_loops():
    """mmselfsup 1.0.0's LOOPS registry imports a module that does not exist
    (``mmselfsup.engine.runner``) at its first lookup, as a runner with
    ``default_scope='mmselfsup'`` makes it when it builds its loop."""
    assert _fresh_python(
        'import mmseed\n'
        'from mmengine.registry import DefaultScope\n'
        'from mmselfsup.registry import LOOPS\n'
        "with DefaultScope.overwrite_default_scope('mmselfsup'):\n"
        "    print(LOOPS.get('EpochBasedTrainLoop').__name__)\n") == [
            'EpochBasedTrainLoop']


def test_mmselfsup_locations_exist():
    from mmengine.registry import Registry
    from mmselfsup import registry
    registries = [r for r in vars(registry).values()
                  if isinstance(r, Registry) and r.scope == 'mmselfsup']
    assert registry.LOOPS in registries
    for reg in registries:
        for location in reg._locations:
            assert compat._module_exists(location), (reg.name, location)
    assert not compat._module_exists('mmselfsup.engine.runner')


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(torch.cuda.is_available(),
                    reason='the CPU-only launch path')
def test_pytorch_launcher_runs_without_cuda(tmp_path, monkeypatch):
    """A ``--launcher pytorch`` runner on a machine without CUDA: mmengine
    0.10.7's ``init_dist`` would call ``torch.cuda.set_device`` and fail.
    tools/train.py and tools/test.py start the gloo group first."""
    for key, value in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                           MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(_free_port())).items():
        monkeypatch.setenv(key, value)
    # A distributed runner sets these when they are unset; keep them local.
    for key in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        monkeypatch.setenv(key,
                           os.environ.get(key, str(torch.get_num_threads())))
    cfg = Config(dict(
        launcher='pytorch', env_cfg=dict(dist_cfg=dict(backend='gloo')),
        model_wrapper_cfg=dict(type='MMDistributedDataParallel',
                               device_ids=None)))
    try:
        start_cpu_process_group(cfg)
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        runner = Runner(model=Toy(), work_dir=str(tmp_path),
                        launcher='pytorch', env_cfg=cfg.env_cfg, cfg=cfg,
                        default_scope='mmseed',
                        experiment_name='test_compat_launcher')
        assert runner.distributed and runner.world_size == 1
        start_cpu_process_group(cfg)  # already started: nothing happens
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_no_process_group_without_a_launcher():
    start_cpu_process_group(Config(dict(launcher='none')))
    assert not dist.is_initialized()
