"""Crash safety of tools/train.py: SIGKILL at random points, resume, same end.

A real training process (tiny MoCo on the CIFAR-10 slice, CPU, fixed seed) is
killed again and again, at random times and deterministically in the middle
of writing a checkpoint, and restarted with ``--resume`` (auto) until it
finishes. Its final weights must equal those of an uninterrupted run bit for
bit, and no file under a checkpoint's name may ever be truncated.

The mid-write kill needs no test code in the package: the process starts with
a ``sitecustomize.py`` (on ``PYTHONPATH``) that wraps ``open`` so that the
N-th file opened for writing whose name contains a checkpoint name (the final
name or a temporary one beside it) gets only half of its bytes; then it
writes the path into a marker file and waits to be killed.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO
from test_train import (MOCO_CIFAR, NARROW, assert_same_weights, load_state,
                        small_run)

EPOCHS = 3
# Kill points come from this seed; set MMSEED_CRASH_SEED to try others.
SEED = int(os.environ.get('MMSEED_CRASH_SEED', '2024'))
CHECKPOINT_NAME = re.compile(r'(epoch|iter)_\d+\.pth')

# Written into a temporary folder put on the subprocess's PYTHONPATH.
SITECUSTOMIZE = '''
"""Fault injection for test_crash_safety.py: half-write the N-th checkpoint
file opened for writing, then wait to be killed."""
import builtins
import os
import re
import time

_AT = int(os.environ.get('CRASH_AT_WRITE', '0'))
_MARKER = os.environ.get('CRASH_MARKER', '')
_NAME = re.compile(r'(epoch|iter)_[0-9]+[.]pth|last_checkpoint')
_open = builtins.open
_count = 0


class _HalfWriter:

    def __init__(self, file, path):
        self._file, self._path = file, path

    def write(self, data):
        self._file.write(data[:len(data) // 2])
        self._file.flush()
        with _open(_MARKER + '.part', 'w') as marker:
            marker.write(self._path)
        os.replace(_MARKER + '.part', _MARKER)
        time.sleep(600)  # the test kills the process now

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._file.__exit__(*exc)


def _open_for_crash(file, mode='r', *args, **kwargs):
    global _count
    handle = _open(file, mode, *args, **kwargs)
    if (isinstance(file, (str, os.PathLike)) and set(mode) & set('wxa+')
            and _NAME.search(os.path.basename(os.fspath(file)))):
        _count += 1
        if _count == _AT:
            return _HalfWriter(handle, os.path.abspath(os.fspath(file)))
    return handle


if _AT:
    builtins.open = _open_for_crash
'''


def tiny_run(data_root):
    """test_train's small run, at 3 iterations per epoch on a narrow
    ResNet-18 (8-64 channels) so that a start-kill-resume cycle is quick."""
    return small_run(data_root, epochs=EPOCHS, batch=8) + NARROW + [
        'train_dataloader.dataset.indices=24',
        'default_hooks.checkpoint.max_keep_ckpts=2']


class Trainer:
    """Starts tools/train.py runs in one work dir and watches them; as a
    context manager it kills a run still going when the test ends."""

    def __init__(self, data_root, work, tmp):
        self.data_root, self.work, self.tmp = data_root, work, tmp
        self.launches = 0
        self.proc = None
        site = tmp / 'site'
        site.mkdir(exist_ok=True)
        (site / 'sitecustomize.py').write_text(SITECUSTOMIZE)
        # One thread: the same arithmetic in every run, however busy the
        # machine is (the thread count changes float results).
        self.env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='1',
                        PYTHONUNBUFFERED='1', PYTHONWARNINGS='ignore')

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.kill()

    def start(self, crash_at=0):
        self.launches += 1
        self.log = self.tmp / f'launch_{self.launches}.log'
        self.marker = self.tmp / f'crash_{self.launches}'
        env = dict(self.env, CRASH_AT_WRITE=str(crash_at),
                   CRASH_MARKER=str(self.marker))
        args = [sys.executable, 'tools/train.py', MOCO_CIFAR, '--work-dir',
                str(self.work), '--resume', '--no-validate',
                *tiny_run(self.data_root)]
        with open(self.log, 'w') as log:
            self.proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        return self.proc

    def output(self):
        return self.log.read_text(errors='replace')

    def wait_for(self, ready, what, timeout=180):
        """Poll until ``ready()``; fail if the run ends first."""
        end = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None, (
                f'run ended (rc {self.proc.returncode}) before {what}; seed '
                f'{SEED}:\n{self.output()[-3000:]}')
            assert time.monotonic() < end, f'timed out waiting for {what}'
            time.sleep(0.02)

    def wait_training(self):
        self.wait_for(lambda: 'Auto resumed from' in self.output(),
                      'training starts')

    def finish(self):
        rc = self.proc.wait(timeout=300)
        assert rc == 0, f'seed {SEED}:\n{self.output()[-3000:]}'

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)


def checkpoint_files(work):
    return sorted(p for p in work.glob('*.pth')
                  if CHECKPOINT_NAME.fullmatch(p.name))


def assert_only_complete_checkpoints(work, when):
    """Every file under a checkpoint name loads; so does what the
    ``last_checkpoint`` pointer names."""
    for path in checkpoint_files(work):
        try:
            load_state(path)
        except Exception as err:  # noqa: BLE001 (any failure is the finding)
            pytest.fail(f'{when} (seed {SEED}): {path.name} is not a complete '
                        f'checkpoint: {err}')
    pointer = work / 'last_checkpoint'
    if pointer.exists():
        named = Path(pointer.read_text().strip())
        assert named.parent == work and named.is_file(), (
            f'{when} (seed {SEED}): last_checkpoint names {named!r}')
        load_state(named)


def resumable_step(work):
    """The epoch a ``--resume`` run would continue from."""
    pointer = work / 'last_checkpoint'
    if pointer.exists():
        return int(re.search(r'_(\d+)\.pth', pointer.read_text()).group(1))
    steps = [int(p.stem.split('_')[1]) for p in checkpoint_files(work)]
    return max(steps, default=0)


@pytest.fixture(scope='module')
def reference(cifar_slice, tmp_path_factory):
    """An uninterrupted run: its work dir, final weights and the seconds from
    the start of training to the start of the last save."""
    tmp = tmp_path_factory.mktemp('reference')
    with Trainer(cifar_slice, tmp / 'work', tmp) as trainer:
        trainer.start()  # --resume in an empty work dir: from scratch
        trainer.wait_training()
        started = time.monotonic()
        last_save = f'Saving checkpoint at {EPOCHS} epochs'
        trainer.wait_for(lambda: last_save in trainer.output(), 'last save')
        train_seconds = time.monotonic() - started
        trainer.finish()
    return (trainer.work, load_state(trainer.work / f'epoch_{EPOCHS}.pth'),
            train_seconds)


def kill_mid_write(trainer, write, history):
    """Run until the ``write``-th checkpoint or pointer write is half done,
    check the work dir while the run is frozen there, then SIGKILL it."""
    trainer.start(crash_at=write)
    trainer.wait_for(trainer.marker.exists, f'write {write}')
    partial = Path(trainer.marker.read_text())
    history.append(f'mid-write in {partial.name}')
    # The half-written bytes are in a temporary file beside the checkpoints,
    # never under a checkpoint's (or the pointer's) name.
    where = f'seed {SEED}, kills {history}'
    assert partial.parent == trainer.work, where
    assert not CHECKPOINT_NAME.fullmatch(partial.name), where
    assert partial.name != 'last_checkpoint', where
    assert_only_complete_checkpoints(trainer.work, f'during a save ({where})')
    trainer.kill()


def kill_at_random_time(trainer, delay, history):
    """SIGKILL the run ``delay`` seconds after its training starts; return
    False if it finished first."""
    trainer.start()
    trainer.wait_training()
    time.sleep(delay)
    history.append(f'at +{delay:.2f}s')
    if trainer.proc.poll() is not None:
        trainer.finish()
        return False
    trainer.kill()
    return True


def test_sigkill_anywhere_then_resume_gives_the_same_weights(
        reference, cifar_slice, tmp_path):
    _, expected, train_seconds = reference
    rng = random.Random(SEED)
    # A kill while a checkpoint file (or the pointer) is half written, then
    # another one and one at a random time during training, in random order.
    plan = ['mid-write'] + rng.sample(['mid-write', 'random'], 2)
    history = []
    with Trainer(cifar_slice, tmp_path / 'work', tmp_path) as trainer:
        for kind in plan:
            done = resumable_step(trainer.work)
            if done == EPOCHS:  # a kill came after the last save
                break
            history.append(f'resume from epoch {done}')
            if kind == 'mid-write':
                # Each epoch left writes a checkpoint, then the pointer.
                write = rng.randint(1, 2 * (EPOCHS - done))
                kill_mid_write(trainer, write, history)
            else:
                delay = rng.uniform(0,
                                    train_seconds * (EPOCHS - done) / EPOCHS)
                if not kill_at_random_time(trainer, delay, history):
                    break  # the run was faster than the kill
            assert_only_complete_checkpoints(
                trainer.work, f'seed {SEED}, after kills {history}')
        if trainer.proc.returncode != 0:
            trainer.start()
            trainer.finish()
    assert_only_complete_checkpoints(trainer.work, f'seed {SEED}, at the end')
    # Each resume removed the temporary files the mid-save kills left.
    assert not list(trainer.work.glob('.*.tmp')), history
    final = load_state(trainer.work / f'epoch_{EPOCHS}.pth')
    try:
        assert_same_weights(final, expected)
    except AssertionError as err:
        raise AssertionError(f'seed {SEED}, kills {history}: {err}') from None


def test_resume_skips_a_truncated_latest_checkpoint(reference, cifar_slice,
                                                    tmp_path):
    """A copied run folder whose newest checkpoint is truncated (as an older,
    non-atomic save left it): ``--resume`` warns, naming the file, resumes
    from the previous complete checkpoint and ends with the same weights."""
    source, expected, _ = reference
    work = tmp_path / 'work'
    shutil.copytree(source, work)
    latest = work / f'epoch_{EPOCHS}.pth'
    latest.write_bytes(latest.read_bytes()[:latest.stat().st_size // 2])
    (work / 'last_checkpoint').write_text(str(latest))
    with Trainer(cifar_slice, work, tmp_path) as trainer:
        trainer.start()
        trainer.finish()
    out = trainer.output()
    assert f'skipped {latest} (truncated' in out
    previous = work / f'epoch_{EPOCHS - 1}.pth'
    assert f'Auto resumed from the latest checkpoint {previous}.' in out
    # Epoch 3 was trained again and saved over the truncated file.
    assert_same_weights(load_state(latest), expected)
    assert_only_complete_checkpoints(work, 'after the resume')
