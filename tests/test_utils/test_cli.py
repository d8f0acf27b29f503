"""run_with_clear_errors: one line for user errors, the traceback on request,
and the process group closed on the way out."""
import pytest
import torch.distributed as dist

from mmseed.utils.checkpoint import CheckpointError
from mmseed.utils.cli import DEBUG_ENV, run_with_clear_errors
from mmseed.utils.config_check import ConfigError

WORKER_MESSAGE = ('Caught ConfigError in DataLoader worker process 0.\n'
                  'Original Traceback (most recent call last):\n'
                  '  File "x.py", line 1, in f\n'
                  'mmseed.utils.config_check.ConfigError: queue length 8 is '
                  'smaller than the global batch 16: set ...\n')


def fail_with(error):
    def main():
        raise error
    return main


@pytest.mark.parametrize('error, expected', [
    (ConfigError('set model.neck.in_channels=256'),
     'error: set model.neck.in_channels=256'),
    (CheckpointError('teacher checkpoint not found: x.pth'),
     'error: teacher checkpoint not found: x.pth'),
    # Raised in a dataloader worker: only the worker's last line.
    (ConfigError(WORKER_MESSAGE), 'error: queue length 8 is smaller than the '
     'global batch 16: set ...'),
])
def test_user_errors_are_one_line_and_exit_2(error, expected, capsys,
                                             monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        run_with_clear_errors(fail_with(error))
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [expected]


def test_debug_env_shows_the_original_error(monkeypatch):
    monkeypatch.setenv(DEBUG_ENV, '1')
    error = ConfigError('set model.neck.in_channels=256')
    with pytest.raises(ConfigError) as raised:
        run_with_clear_errors(fail_with(error))
    assert raised.value is error


def test_other_errors_propagate(monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    with pytest.raises(ZeroDivisionError):
        run_with_clear_errors(fail_with(ZeroDivisionError('x')))


@pytest.mark.parametrize('error', [None, ConfigError('bad')])
def test_process_group_is_destroyed_on_the_way_out(error, tmp_path,
                                                   monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    seen = []

    def main():
        dist.init_process_group('gloo', init_method=f'file://{tmp_path}/pg',
                                rank=0, world_size=1)
        seen.append(dist.is_initialized())
        if error is not None:
            raise error

    try:
        if error is None:
            run_with_clear_errors(main)
        else:
            with pytest.raises(SystemExit):
                run_with_clear_errors(main)
    finally:
        initialized = dist.is_initialized()
        if initialized:
            dist.destroy_process_group()
    assert seen == [True] and not initialized
