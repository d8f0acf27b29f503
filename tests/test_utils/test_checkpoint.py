"""Checkpoints load with weights_only; pickled code never runs by default.
Checkpoints are written atomically and auto resume skips truncated ones."""
import logging
import os
import pickle
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner.checkpoint import (CheckpointLoader, load_checkpoint,
                                        save_checkpoint)

import mmseed  # noqa: F401  (patches mmengine's loader and resume)
from mmseed.engine.hooks import CheckpointHook
from mmseed.utils import (ALLOW_PICKLE_ENV, CheckpointError,
                          load_checkpoint_file)
from mmseed.utils.checkpoint import (atomic_torch_save, atomic_write,
                                     checkpoint_problem,
                                     find_latest_complete_checkpoint)


class _Payload:
    """An object whose unpickling creates a marker file (a stand-in for
    arbitrary code execution)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def malicious(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'x': _Payload(str(marker))},
               path)
    assert not marker.exists()
    return path, marker


def test_plain_state_dict_loads(tmp_path):
    path = tmp_path / 'plain.pth'
    state = OrderedDict(w=torch.arange(4.), b=torch.zeros(2))
    torch.save({'state_dict': state, 'meta': {'epoch': 3}}, path)
    loaded = load_checkpoint_file(path)
    assert torch.equal(loaded['state_dict']['w'], torch.arange(4.))
    assert loaded['meta'] == {'epoch': 3}


def test_malicious_pickle_is_refused_and_not_run(malicious, monkeypatch):
    monkeypatch.delenv(ALLOW_PICKLE_ENV, raising=False)
    path, marker = malicious
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_file(path)
    assert ALLOW_PICKLE_ENV in str(err.value)
    assert 'builtins.open' in str(err.value) or 'io.open' in str(err.value)
    assert not marker.exists()


def test_mmengine_loaders_use_the_safe_path(malicious, monkeypatch):
    """``load_from``, resume and ``Pretrained`` init all reach this loader."""
    monkeypatch.delenv(ALLOW_PICKLE_ENV, raising=False)
    path, marker = malicious
    with pytest.raises(CheckpointError):
        CheckpointLoader.load_checkpoint(str(path))
    with pytest.raises(CheckpointError):
        load_checkpoint(torch.nn.Linear(1, 1), str(path))
    assert not marker.exists()


def test_opt_in_loads_trusted_legacy_file(malicious, monkeypatch):
    path, marker = malicious
    monkeypatch.setenv(ALLOW_PICKLE_ENV, '1')
    loaded = load_checkpoint_file(path)
    assert torch.equal(loaded['state_dict']['w'], torch.ones(1))
    assert marker.exists()


def test_history_buffer_getattr_is_restricted(tmp_path):
    """The getattr stand-in resolves HistoryBuffer's methods only."""
    from mmengine.logging import HistoryBuffer
    from mmseed.utils.checkpoint import _history_buffer_getattr
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        _history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError):
        _history_buffer_getattr(os, 'system')


def test_missing_and_truncated_files_are_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match='not found'):
        load_checkpoint_file(tmp_path / 'nope.pth')
    good = tmp_path / 'good.pth'
    torch.save({'w': torch.randn(1000)}, good)
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(good.read_bytes()[:500])
    with pytest.raises(CheckpointError, match='truncated'):
        load_checkpoint_file(cut)
    junk = tmp_path / 'junk.pth'
    junk.write_text('not a checkpoint')
    with pytest.raises(CheckpointError, match='cannot read'):
        load_checkpoint_file(junk)


# --- crash safety: atomic writes and the auto-resume fallback -------------


@pytest.fixture
def warnings_log():
    """Records what mmengine's current logger prints at WARNING or above."""
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _save(path, step):
    torch.save({'state_dict': {'w': torch.full((64, ), float(step))},
                'meta': {'epoch': step}}, path)


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / 'sub' / 'epoch_1.pth'
    atomic_write(b'first', target)
    atomic_write('second ü', target)
    assert target.read_text(encoding='utf-8') == 'second ü'
    assert _files(target.parent) == ['epoch_1.pth']
    # Same permissions as a file made by a plain open() (umask applies).
    plain = tmp_path / 'plain'
    plain.write_bytes(b'')
    assert target.stat().st_mode == plain.stat().st_mode


def test_failed_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old complete checkpoint')

    def no_space(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', no_space)
    with pytest.raises(OSError, match='No space'):
        atomic_write(b'new', target)
    assert target.read_bytes() == b'old complete checkpoint'
    assert _files(tmp_path) == ['epoch_1.pth']


def test_atomic_torch_save_round_trips_or_keeps_the_old_file(
        tmp_path, monkeypatch):
    target = tmp_path / 'out' / 'teacher.pth'
    state = {'state_dict': OrderedDict(w=torch.arange(6.).reshape(2, 3))}
    atomic_torch_save(state, target)
    loaded = load_checkpoint_file(target)
    assert torch.equal(loaded['state_dict']['w'], state['state_dict']['w'])
    assert _files(target.parent) == ['teacher.pth']

    def no_space(fd):
        raise OSError(28, 'No space left on device')

    before = target.read_bytes()
    monkeypatch.setattr(os, 'fsync', no_space)
    with pytest.raises(OSError, match='No space'):
        atomic_torch_save({'state_dict': {}}, target)
    assert target.read_bytes() == before
    assert _files(target.parent) == ['teacher.pth']


def test_mmengine_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    """mmengine's save_checkpoint, as the runner calls it for mmseed's
    CheckpointHook (with the hook's backend_args), writes through a temporary
    file in the same folder, then renames it onto the name."""
    hook = CheckpointHook(interval=1)
    hook.before_train(_StubRunner(tmp_path))
    target = tmp_path / 'epoch_2.pth'
    _save(target, 1)
    old = target.read_bytes()
    renames = []
    real_replace = os.replace

    def replace(src, dst):
        # The final name still holds the old, complete checkpoint while the
        # new one is complete under its temporary name.
        assert target.read_bytes() == old
        assert checkpoint_problem(src) is None
        renames.append((Path(src).parent, Path(src).name, Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, 'replace', replace)
    save_checkpoint({'state_dict': {'w': torch.ones(3)}}, str(target),
                    backend_args=hook.backend_args)
    (folder, temp_name, dst), = renames
    assert folder == tmp_path and dst == target
    assert temp_name.startswith('.epoch_2.pth.') and temp_name.endswith('.tmp')
    assert torch.equal(load_checkpoint_file(target)['state_dict']['w'],
                       torch.ones(3))
    assert _files(tmp_path) == ['epoch_2.pth']


def test_truncated_checkpoints_are_detected(tmp_path):
    good = tmp_path / 'good.pth'
    _save(good, 1)
    assert checkpoint_problem(good) is None
    data = good.read_bytes()
    cut = tmp_path / 'cut.pth'
    # Every cut inside the trailing zip directory, and cuts spread over the
    # rest of the file.
    tail = range(max(0, len(data) - 300), len(data))
    spread = range(0, len(data), max(1, len(data) // 40))
    for size in sorted(set(tail) | set(spread)):
        cut.write_bytes(data[:size])
        assert checkpoint_problem(cut) is not None, size
    assert checkpoint_problem(tmp_path / 'nope.pth') == 'missing'
    junk = tmp_path / 'junk.pth'
    junk.write_text('not a checkpoint')
    assert 'not a PyTorch checkpoint' in checkpoint_problem(junk)


def test_resume_uses_a_complete_latest_checkpoint(tmp_path, warnings_log):
    for step in (1, 2):
        _save(tmp_path / f'epoch_{step}.pth', step)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    assert find_latest_complete_checkpoint(tmp_path) == str(
        tmp_path / 'epoch_2.pth')
    assert warnings_log == []


def test_truncated_latest_falls_back_to_previous_complete(
        tmp_path, warnings_log):
    for step in (1, 2, 3):
        _save(tmp_path / f'epoch_{step}.pth', step)
    _truncate(tmp_path / 'epoch_3.pth')
    truncated = (tmp_path / 'epoch_3.pth').read_bytes()
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    found = find_latest_complete_checkpoint(tmp_path)
    assert found == str(tmp_path / 'epoch_2.pth')
    assert load_checkpoint_file(found)['meta'] == {'epoch': 2}
    warning, = warnings_log
    assert f'{tmp_path / "epoch_3.pth"} (truncated' in warning
    assert f'resuming from the newest complete checkpoint {found}' in warning
    # The bad file is left exactly as it was.
    assert (tmp_path / 'epoch_3.pth').read_bytes() == truncated


def test_resume_removes_only_unfinished_saves(tmp_path):
    _save(tmp_path / 'epoch_1.pth', 1)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    unfinished = ['.epoch_2.pth.0123abcd.tmp', '.iter_30.pth.ffffffff.tmp',
                  '.last_checkpoint.89abcdef.tmp']
    kept = ['.notes.0123abcd.tmp', '.epoch_2.pth.tmp',
            'epoch_2.pth.0123abcd.tmp', '.epoch_2.pth.0123ABCD.tmp',
            'scalars.json']
    for name in unfinished + kept:
        (tmp_path / name).write_bytes(b'partial')
    assert find_latest_complete_checkpoint(tmp_path) == str(
        tmp_path / 'epoch_1.pth')
    assert _files(tmp_path) == sorted(
        ['epoch_1.pth', 'last_checkpoint', *kept])


def test_fallback_skips_every_bad_file_and_orders_by_step(
        tmp_path, warnings_log):
    """epoch_10 is newer than epoch_9; a missing named file and a second
    truncated one are both skipped and named."""
    for step in (2, 9, 10):
        _save(tmp_path / f'epoch_{step}.pth', step)
    _truncate(tmp_path / 'epoch_10.pth', keep=0.9)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_11.pth'))
    assert find_latest_complete_checkpoint(tmp_path) == str(
        tmp_path / 'epoch_9.pth')
    warning, = warnings_log
    assert f'{tmp_path / "epoch_11.pth"} (missing)' in warning
    assert f'{tmp_path / "epoch_10.pth"} (truncated' in warning


@pytest.mark.parametrize('pointer', [None, '', '   \n'])
def test_missing_or_empty_pointer_uses_newest_complete(
        tmp_path, warnings_log, pointer):
    for step in (3, 4):
        _save(tmp_path / f'iter_{step}.pth', step)
    if pointer is not None:
        (tmp_path / 'last_checkpoint').write_text(pointer)
    assert find_latest_complete_checkpoint(tmp_path) == str(
        tmp_path / 'iter_4.pth')
    warning, = warnings_log
    assert str(tmp_path / 'iter_4.pth') in warning


def test_no_complete_checkpoint_starts_from_scratch(tmp_path, warnings_log):
    assert find_latest_complete_checkpoint(tmp_path) is None
    assert warnings_log == []  # a fresh work dir is not a problem
    _save(tmp_path / 'epoch_1.pth', 1)
    _truncate(tmp_path / 'epoch_1.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    assert find_latest_complete_checkpoint(tmp_path) is None
    warning, = warnings_log
    assert str(tmp_path / 'epoch_1.pth') in warning
    assert 'starts from scratch' in warning
    assert (tmp_path / 'epoch_1.pth').is_file()


def test_remote_pointer_is_returned_unchecked(tmp_path):
    (tmp_path / 'last_checkpoint').write_text('s3://bucket/run/epoch_5.pth\n')
    assert find_latest_complete_checkpoint(tmp_path) == \
        's3://bucket/run/epoch_5.pth'


def test_runner_auto_resume_uses_the_fallback():
    """Runner.load_or_resume reaches find_latest_checkpoint through the name
    imported into mmengine.runner.runner, which is rebound."""
    import mmengine.runner
    from mmengine.runner import runner as runner_module
    assert runner_module.find_latest_checkpoint is \
        find_latest_complete_checkpoint
    assert mmengine.runner.find_latest_checkpoint is \
        find_latest_complete_checkpoint


class _StubRunner:
    """What CheckpointHook needs from a runner; ``save_checkpoint`` checks the
    folder's state at the moment of the save."""

    def __init__(self, work_dir, fail=False):
        self.work_dir = str(work_dir)
        self.logger = MMLogger.get_current_instance()
        self.message_hub = MessageHub.get_instance('crash_safety_test')
        self.fail = fail
        self.seen = []

    def save_checkpoint(self, out_dir, filename, file_client_args=None,
                        **kwargs):
        self.seen.append(_files(Path(out_dir)))
        if self.fail:
            raise OSError(28, 'No space left on device')
        _save(Path(out_dir) / filename, int(filename[6:-4]))


def test_checkpoint_hook_deletes_old_and_moves_pointer_after_save(tmp_path):
    runner = _StubRunner(tmp_path)
    hook = CheckpointHook(interval=1, max_keep_ckpts=2)
    hook.before_train(runner)
    for step in (1, 2, 3):
        hook._save_checkpoint_with_step(runner, step, meta={})
    # At the third save the checkpoint that falls out (epoch_1) and the
    # pointer to epoch_2 were still there; afterwards both moved on.
    assert runner.seen[2] == ['epoch_1.pth', 'epoch_2.pth', 'last_checkpoint']
    assert _files(tmp_path) == ['epoch_2.pth', 'epoch_3.pth',
                                'last_checkpoint']
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'epoch_3.pth')
    assert runner.message_hub.get_info('keep_ckpt_ids') == [2, 3]

    runner.fail = True  # a failed save changes nothing on disk
    with pytest.raises(OSError):
        hook._save_checkpoint_with_step(runner, 4, meta={})
    assert _files(tmp_path) == ['epoch_2.pth', 'epoch_3.pth',
                                'last_checkpoint']
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'epoch_3.pth')
