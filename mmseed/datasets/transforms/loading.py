"""Loading images with a policy for unreadable (corrupt or truncated) files."""
import logging
from typing import Optional

import torch
from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log
from torch.utils.data import get_worker_info

from mmseed.errors import CorruptImageError
from mmseed.registry import TRANSFORMS

__all__ = ['CorruptImageError', 'SafeLoadImageFromFile']

# One counter slot per dataloader worker (worker ids modulo this number) and a
# last one for the main process; each process writes only its own slot, so
# the shared counts need no lock.
_WORKER_SLOTS = 1024


@TRANSFORMS.register_module()
class SafeLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that skips or rejects unreadable images by name.

    A file that cannot be read, is empty, or does not decode (a corrupt or
    truncated JPEG/PNG: OpenCV returns no image, Pillow raises) is handled by
    ``on_corrupt``:

    * ``'skip'`` (default): log a warning naming the file and the number of
      files skipped so far on this rank, and return ``None``. mmengine's
      ``BaseDataset`` then draws another random index (up to its
      ``max_refetch`` times), so the batch keeps its size. Skipping is the
      default because one bad JPEG among millions should not end a run that
      has trained for days; the warnings name every file to fix afterwards.
    * ``'error'``: raise :class:`CorruptImageError` naming the file.

    The count is kept in shared memory, so it adds up the skips of every
    dataloader worker of this rank and survives non-persistent workers being
    restarted each epoch. Use this transform in training pipelines only: a
    dataset in ``test_mode`` refuses a ``None`` sample, so test pipelines
    should keep failing on a bad file (``on_corrupt='error'``).

    Args:
        on_corrupt (str): ``'skip'`` or ``'error'``. Defaults to ``'skip'``.
        **kwargs: The arguments of mmcv's ``LoadImageFromFile``
            (``to_float32``, ``color_type``, ``imdecode_backend``,
            ``backend_args``). ``ignore_empty`` is replaced by ``on_corrupt``.
    """

    def __init__(self, on_corrupt: str = 'skip', **kwargs) -> None:
        if on_corrupt not in ('skip', 'error'):
            raise ValueError(
                f"on_corrupt must be 'skip' or 'error', got {on_corrupt!r}")
        if 'ignore_empty' in kwargs:
            raise ValueError(
                'SafeLoadImageFromFile replaces ignore_empty with on_corrupt='
                "'skip' or 'error'; remove ignore_empty")
        super().__init__(ignore_empty=False, **kwargs)
        self.on_corrupt = on_corrupt
        self._skipped = torch.zeros(
            _WORKER_SLOTS + 1, dtype=torch.long).share_memory_()

    @property
    def num_skipped(self) -> int:
        """Files skipped so far by every process that shares this transform.
        """
        return int(self._skipped.sum())

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']``.

        Args:
            results (dict): Result dict with ``img_path``.

        Returns:
            dict | None: ``results`` with ``img``, ``img_shape`` and
            ``ori_shape``; ``None`` for a skipped file.

        Raises:
            CorruptImageError: The file is unreadable and ``on_corrupt`` is
                ``'error'``.
        """
        filename = results['img_path']
        try:
            loaded = super().transform(results)
            problem = None
        except AssertionError:  # mmcv: the decoder returned no image
            problem = 'it does not decode as an image'
        except Exception as err:  # I/O and decoder errors of any backend
            problem = f'{type(err).__name__}: {" ".join(str(err).split())}'
        if problem is None:
            return loaded
        if self.on_corrupt == 'error':
            raise CorruptImageError(
                f'cannot read image {filename} ({problem}); replace or remove '
                'the file, or set on_corrupt=\'skip\' in the pipeline\'s '
                'SafeLoadImageFromFile to skip unreadable files')
        worker = get_worker_info()
        slot = _WORKER_SLOTS if worker is None else worker.id % _WORKER_SLOTS
        self._skipped[slot] += 1
        print_log(
            f'skipped unreadable image {filename} ({problem}); '
            f'{self.num_skipped} file(s) skipped so far on this rank',
            logger='current',
            level=logging.WARNING)
        return None

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(on_corrupt={self.on_corrupt!r}, '
                f'to_float32={self.to_float32}, '
                f'color_type={self.color_type!r}, '
                f'imdecode_backend={self.imdecode_backend!r}, '
                f'backend_args={self.backend_args})')
