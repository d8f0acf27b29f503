"""Keep freed memory in the process for CPU training (glibc's malloc).

PyTorch's CPU allocator takes every tensor from ``malloc``. glibc serves
blocks above its mmap threshold (dynamic, at most 32 MiB by default) with a
fresh ``mmap`` and gives them back with ``munmap`` when freed, so a CPU step
whose activations are that large (a ResNet-18 stage at 32 px and batch 128:
128 x 64 x 32 x 32 floats, 33.5 MiB) page-faults and zeroes them again every
time: about 10^5 minor faults per step of a CIFAR-10 distillation, whose
images/s rose by 5-25% without them (``docs/benchmarks.md``, "Speed
targets"). Raising the mmap and trim thresholds lets freed blocks stay in
the heap and be reused; the process then keeps its peak memory instead of
returning it between steps.
"""
import ctypes
import os
import platform

__all__ = [
    'KEEP_FREED_MEMORY_ENV', 'is_allocator_setting', 'keep_freed_memory'
]

#: Set to ``0`` to leave malloc's settings alone.
KEEP_FREED_MEMORY_ENV = 'MMSEED_KEEP_FREED_MEMORY'

# mallopt parameters, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_INT_MAX = 2**31 - 1  # mallopt takes an int


def is_allocator_setting(key: str) -> bool:
    """Whether an environment variable chooses malloc's settings or another
    allocator: ``MALLOC_*_``, ``GLIBC_TUNABLES``, ``LD_PRELOAD`` (e.g. of
    jemalloc or tcmalloc)."""
    return key.startswith('MALLOC_') or key in ('GLIBC_TUNABLES',
                                                'LD_PRELOAD')


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse.

    Sets the mmap threshold (blocks larger than it get their own mapping)
    and the trim threshold (free memory at the heap's top above it goes back
    to the system) to their maximum, 2 GiB. Does nothing, and returns False,
    when ``MMSEED_KEEP_FREED_MEMORY=0``, when the user set malloc's
    variables or preloads another allocator, or on a C library other than
    glibc.

    Returns:
        bool: Whether the settings were applied.
    """
    if os.environ.get(KEEP_FREED_MEMORY_ENV, '1') == '0' \
            or any(map(is_allocator_setting, os.environ)) \
            or platform.libc_ver()[0] != 'glibc':
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return all(
        mallopt(param, _INT_MAX) == 1
        for param in (_M_MMAP_THRESHOLD, _M_TRIM_THRESHOLD))
