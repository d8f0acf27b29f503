"""NT-Xent, SimCLR's contrastive loss (Chen et al., ICML 2020), with the
negatives of every rank."""
from typing import List, Optional

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from mmseed.errors import ConfigError
from mmseed.registry import MODELS
from .functional import fp32

__all__ = ['gather_with_grad', 'nt_xent', 'NTXentLoss']


def gather_with_grad(x: Tensor) -> List[Tensor]:
    """Every rank's ``x``, in rank order; gradients flow back to each rank.

    One process (or no process group): ``[x]``. The ranks' batches must have
    one shape.
    """
    if not (dist.is_available() and dist.is_initialized()) \
            or dist.get_world_size() == 1:
        return [x]
    sizes = [torch.zeros(1, dtype=torch.long, device=x.device)
             for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([x.shape[0]], device=x.device))
    if len({int(s) for s in sizes}) != 1:
        raise ConfigError(
            'NT-Xent gathers the batches of all ranks, but they differ in '
            f'size ({[int(s) for s in sizes]}): set train_dataloader.'
            'drop_last=True so that every rank gets full batches')
    from torch.distributed.nn.functional import all_gather
    return list(all_gather(x.contiguous()))


@fp32
def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.5,
            negatives: Optional[Tensor] = None) -> Tensor:
    """NT-Xent over the two views of a batch, with every rank's negatives.

    For each of the ``2N`` local embeddings (anchors), the positive is the
    other view of the same image and the negatives are the ``2NW - 2`` other
    embeddings of the global batch (``W`` ranks); logits are cosine
    similarities over ``temperature``, and the loss is the cross-entropy of
    the positive, averaged over the local anchors. On one process this is
    the official DoGo ``criterion/ntxent.py`` (summed cross-entropy / 2N,
    2N - 2 negatives); under DDP, whose gradient averaging over ranks then
    gives the gradient of the global batch's loss (the gather passes
    gradients back to every rank).

    Args:
        z1 (Tensor): (N, D) embeddings of the first views.
        z2 (Tensor): (N, D) embeddings of the second views, same images.
        temperature (float): Defaults to 0.5 (DoGo; SimCLR's CIFAR value).
        negatives (Tensor, optional): (M, D) further negatives of every
            anchor, without gradient (e.g. a memory of a momentum encoder's
            embeddings); L2-normalised here.

    Returns:
        Tensor: The scalar loss of this rank's anchors.
    """
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f'NT-Xent needs two (N, D) views of one shape, got '
                         f'{tuple(z1.shape)} and {tuple(z2.shape)}')
    n = z1.shape[0]
    z1, z2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    # One gather of both views (one size check, one collective per call).
    gathered = gather_with_grad(torch.cat([z1, z2], dim=1))
    d = z1.shape[1]
    rank = dist.get_rank() if len(gathered) > 1 else 0
    total = n * len(gathered)
    # (2NW, D): every rank's first views, then every rank's second views.
    keys = torch.cat([g[:, :d] for g in gathered] +
                     [g[:, d:] for g in gathered], dim=0)
    if negatives is not None:
        if negatives.dim() != 2 or negatives.shape[1] != d:
            raise ValueError(f'NT-Xent negatives must be (M, {d}), got '
                             f'{tuple(negatives.shape)}')
        keys = torch.cat([keys, F.normalize(negatives.detach(), dim=1)])
    anchors = torch.cat([z1, z2], dim=0)  # (2N, D)
    logits = anchors @ keys.T / temperature
    local = torch.arange(n, device=z1.device) + rank * n
    own = torch.cat([local, local + total])  # each anchor's own column
    positive = torch.cat([local + total, local])  # the other view's column
    self_mask = torch.zeros_like(logits, dtype=torch.bool)
    self_mask[torch.arange(2 * n, device=z1.device), own] = True
    return F.cross_entropy(logits.masked_fill(self_mask, float('-inf')),
                           positive)


@MODELS.register_module()
class NTXentLoss(nn.Module):
    """Module wrapper of :func:`nt_xent`.

    Args:
        temperature (float): 0.5 in DoGo (NeurAI-Lab/DoGo, hard-coded in
            ``criterion/ntxent.py``); SimCLR uses 0.1 at large batches on
            ImageNet.
    """

    def __init__(self, temperature: float = 0.5) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'NTXentLoss temperature must be positive, got '
                             f'{temperature}')
        self.temperature = temperature

    def forward(self, z1: Tensor, z2: Tensor,
                negatives: Optional[Tensor] = None) -> Tensor:
        return nt_xent(z1, z2, self.temperature, negatives)
