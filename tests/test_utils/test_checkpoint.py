"""Checkpoints load with weights_only; pickled code never runs by default."""
import os
import pickle
from collections import OrderedDict

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint

import mmseed  # noqa: F401  (patches mmengine's local loader)
from mmseed.utils import (ALLOW_PICKLE_ENV, CheckpointError,
                          load_checkpoint_file)


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
