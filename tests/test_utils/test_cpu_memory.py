"""mmseed.utils.cpu_memory: freed blocks are reused, not faulted again."""
import os
import platform
import subprocess
import sys

import pytest

from mmseed.utils import cpu_memory

# In a fresh process (mallopt's settings last for the process): page faults
# per step of a convolution whose input and output, 128 x 64 x 32 x 32
# floats (33.5 MiB, a ResNet-18 stage at CIFAR size), lie above glibc's
# largest dynamic mmap threshold (32 MiB), after warm-up steps.
PROBE = '''
import resource, torch
from mmseed.utils.cpu_memory import keep_freed_memory
applied = keep_freed_memory()
conv = torch.nn.Conv2d(64, 64, 3, padding=1)
x = torch.randn(128, 64, 32, 32)
with torch.inference_mode():
    for step in range(10):
        if step == 5:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        y = torch.relu(conv(x))
        del y
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(applied, faults // 5)  # per step
'''


def probe(**env):
    clean = {k: v for k, v in os.environ.items()
             if not cpu_memory.is_allocator_setting(k)
             and k != cpu_memory.KEEP_FREED_MEMORY_ENV}
    result = subprocess.run([sys.executable, '-c', PROBE],
                            env={**clean, **env}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    applied, faults = result.stdout.split()
    return applied == 'True', int(faults)


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc',
                    reason='sets glibc malloc parameters')
def test_freed_blocks_are_reused_instead_of_faulted_again():
    """With malloc's defaults every 33.5 MiB buffer of the step (the
    convolution's output, the ReLU's, oneDNN's) is a fresh mapping,
    faulted page by page: 32772 pages a step here. Kept, they are reused;
    at most the heap's growth by one buffer (8192 pages, 1638 a step over
    the 5 steps) is seen once in a while."""
    applied, faults = probe()
    assert applied and faults < 2000
    applied, faults = probe(**{cpu_memory.KEEP_FREED_MEMORY_ENV: '0'})
    assert not applied and faults > 16000


@pytest.mark.parametrize('key, value', [
    (cpu_memory.KEEP_FREED_MEMORY_ENV, '0'),
    ('MALLOC_ARENA_MAX', '2'),
    ('LD_PRELOAD', 'libjemalloc.so.2'),
    ('GLIBC_TUNABLES', 'glibc.malloc.trim_threshold=0'),
])
def test_leaves_the_users_own_settings_alone(key, value, monkeypatch):
    monkeypatch.setenv(key, value)
    assert cpu_memory.keep_freed_memory() is False


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(cpu_memory.platform, 'libc_ver',
                        lambda: ('musl', '1.2'))
    for key in filter(cpu_memory.is_allocator_setting, list(os.environ)):
        monkeypatch.delenv(key)
    monkeypatch.delenv(cpu_memory.KEEP_FREED_MEMORY_ENV, raising=False)
    assert cpu_memory.keep_freed_memory() is False
