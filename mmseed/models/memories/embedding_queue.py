"""A first-in-first-out queue of embeddings, filled from every rank."""
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
        if count > self.size:
            raise ConfigError(
                f'queue length {self.size} is smaller than the global batch '
                f'{count}: set a queue length of at least {count} (e.g. '
                'model.queue_len) or a smaller batch')
        index = (self.ptr + torch.arange(count, device=self.ptr.device)) \
            % self.size
        self.embeddings[index] = batch.to(self.embeddings.dtype)
        self.ptr.copy_((self.ptr + count) % self.size)

    def extra_repr(self) -> str:
        return f'size={self.size}, dim={self.dim}'
