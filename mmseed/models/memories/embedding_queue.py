"""A first-in-first-out queue of embeddings, filled from every rank."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather
from torch import Tensor, nn

from mmseed.errors import ConfigError

__all__ = ['EmbeddingQueue']


class EmbeddingQueue(nn.Module):
    """Holds the last ``size`` embeddings enqueued by all ranks together.

    The queue starts with random unit vectors (as MoCo and SEED do) and is a
    module buffer, so it is saved in checkpoints and restored on resume. Under
    DDP each rank enqueues its batch after an all-gather, so every rank holds
    the same queue. Any global batch up to ``size`` is handled, including one
    that does not divide ``size`` (the write wraps around).

    Args:
        size (int): Number of embeddings ``K``.
        dim (int): Embedding width ``D``.
    """

    def __init__(self, size: int, dim: int) -> None:
        super().__init__()
        if size < 1 or dim < 1:
            raise ConfigError(f'queue size and dim must be positive, got '
                              f'{size} and {dim}')
        self.size = size
        self.dim = dim
        self.register_buffer('embeddings',
                             F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def enqueue(self, batch: Tensor) -> None:
        """Replace the oldest entries with ``batch`` from every rank.

        Args:
            batch (Tensor): This rank's embeddings, shape (N, D).
        """
        batch = torch.cat(all_gather(batch.detach().contiguous()), dim=0)
        count = batch.shape[0]
        if batch.dim() != 2 or batch.shape[1] != self.dim:
            raise ConfigError(f'queue of {self.dim}-d embeddings got a batch '
                              f'of shape {tuple(batch.shape)}')
        self.check_capacity(self.size, count)
        index = (self.ptr + torch.arange(count, device=self.ptr.device)) \
            % self.size
        self.embeddings[index] = batch.to(self.embeddings.dtype)
        self.ptr.copy_((self.ptr + count) % self.size)

    @staticmethod
    def check_capacity(size: int, global_batch: Optional[int],
                       key: str = 'model.queue_len',
                       source: Optional[str] = None) -> None:
        """Check that a queue of ``size`` takes a whole global batch.

        Called before training (by the algorithm's config check, which
        knows the batch and the processes) and at each enqueue.

        Args:
            size (int): The queue length.
            global_batch (int, optional): Embeddings enqueued per step over
                all ranks; None (unknown) passes.
            key (str): The config key of the length, for the message.
            source (str, optional): How the global batch was found, e.g.
                ``TrainingSetting.global_batch_source``; None at run time.

        Raises:
            ConfigError: The queue is shorter than the global batch.
        """
        if global_batch is None or global_batch <= size:
            return
        if source is None:
            raise ConfigError(
                f'queue length {size} is smaller than the global batch '
                f'{global_batch}: set a queue length of at least '
                f'{global_batch} (e.g. {key}) or a smaller batch')
        raise ConfigError(
            f'{key}={size} is smaller than the {source}: each step enqueues '
            f'the whole global batch, so set {key} to at least '
            f'{global_batch} or use a smaller batch')

    def extra_repr(self) -> str:
        return f'size={self.size}, dim={self.dim}'
