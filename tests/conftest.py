"""Shared fixtures: the repository layout and a small real CIFAR-10 slice."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The real CIFAR-10 archive that ../shared/data provides (see its README).
CIFAR_ARCHIVE = Path(
    os.environ.get('MMSEED_CIFAR10_ARCHIVE',
                   REPO.parent / 'shared' / 'data' / 'cifar10-jpg.tar.gz'))


def load_tool(relative_path: str):
    """Import a script under tools/ (not a package) as a module."""
    path = REPO / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def cifar_slice(tmp_path_factory) -> Path:
    """A real CIFAR-10 slice: 8 train and 8 test images per class."""
    if not CIFAR_ARCHIVE.is_file():
        pytest.fail(f'real CIFAR-10 archive not found at {CIFAR_ARCHIVE}; '
                    'put ../shared beside the repo or set '
                    'MMSEED_CIFAR10_ARCHIVE')
    prepare = load_tool('tools/dataset_converters/prepare_cifar10.py')
    out = tmp_path_factory.mktemp('data') / 'cifar10'
    prepare.prepare_cifar10(CIFAR_ARCHIVE, out, per_class=8, log=lambda *a: None)
    return out


def run_tool(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    """Run ``python <args>`` from the repository root, capturing output."""
    full_env = dict(os.environ, PYTHONWARNINGS='ignore', **(env or {}))
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                          env=full_env, capture_output=True, text=True,
                          timeout=timeout)
