"""Building blocks of the distillation and contrastive losses.

Pure functions on plain tensors, shared by the methods' losses: SEED's
similarity mimicking, DoGo's mutual similarity KL, the KD terms of SimCLRv2
and CRD, and DINO's view loss all compare temperature-scaled distributions
over similarity logits.

Every function computes in fp32 whatever the autocast state: temperatures as
small as SEED's 1e-4 (or DINO's 0.04 over 65,536 outputs) overflow or lose
the target's mass in half precision.
"""
import functools
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'fp32', 'queue_logits', 'cosine_similarity_matrix', 'soft_cross_entropy',
    'kl_divergence'
]


def fp32(function: Callable) -> Callable:
    """Run ``function`` with autocast off and its tensor arguments in fp32.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        args = [a.float() if isinstance(a, Tensor) else a for a in args]
        kwargs = {k: v.float() if isinstance(v, Tensor) else v
                  for k, v in kwargs.items()}
        device = next((a.device.type for a in (*args, *kwargs.values())
                       if isinstance(a, Tensor)), 'cpu')
        with torch.autocast(device_type=device, enabled=False):
            return function(*args, **kwargs)

    return wrapper


@fp32
def queue_logits(query: Tensor, positive: Tensor, queue: Tensor) -> Tensor:
    """Similarity of each query to its own positive and to a queue.

    Args:
        query (Tensor): (N, D).
        positive (Tensor): (N, D), row ``i`` the positive of query ``i``.
        queue (Tensor): (K, D).

    Returns:
        Tensor: (N, 1 + K) logits ``[q_i . p_i, q_i . Q]``, the positive
        first (the layout of MoCo's and SEED's logits).
    """
    return torch.cat([(query * positive).sum(1, keepdim=True),
                      query @ queue.T], dim=1)


@fp32
def cosine_similarity_matrix(a: Tensor, b: Tensor) -> Tensor:
    """``S[i, j] = cos(a_i, b_j)`` for (N, D) ``a`` and (M, D) ``b``."""
    return F.normalize(a, dim=1) @ F.normalize(b, dim=1).T


@fp32
def soft_cross_entropy(logits: Tensor,
                       target_logits: Tensor,
                       temperature: float = 1.,
                       target_temperature: float = 1.) -> Tensor:
    """Cross-entropy of a predicted distribution against a soft target.

    ``-sum_j softmax(target / target_temperature)_j *
    log_softmax(logits / temperature)_j``, averaged over the rows. The
    target is used as given: detach it first where it must not train.

    Args:
        logits (Tensor): (N, C) predicted logits.
        target_logits (Tensor): (N, C) logits of the target distribution.
        temperature (float): Temperature of the prediction. Defaults to 1.
        target_temperature (float): Temperature of the target. Defaults to
            1.

    Returns:
        Tensor: The scalar loss.
    """
    target = F.softmax(target_logits / target_temperature, dim=1)
    log_prob = F.log_softmax(logits / temperature, dim=1)
    return -(target * log_prob).sum(dim=1).mean()


@fp32
def kl_divergence(logits: Tensor,
                  target_logits: Tensor,
                  temperature: float = 1.,
                  target_temperature: float = 1.,
                  reduction: str = 'batchmean') -> Tensor:
    """``KL(P_target || P)`` between temperature-scaled softmax distributions.

    Args:
        logits (Tensor): (N, C) logits of ``P``, the distribution trained.
        target_logits (Tensor): (N, C) logits of ``P_target``; detach them
            first where they must not train.
        temperature (float): Temperature of ``P``. Defaults to 1.
        target_temperature (float): Temperature of ``P_target``. Defaults
            to 1.
        reduction (str): ``'batchmean'`` (sum over classes, mean over rows:
            the KL divergence proper) or ``'mean'`` (mean over all N x C
            elements, ``F.kl_div``'s default, which some official code
            uses: ``batchmean / C``). Defaults to ``'batchmean'``.

    Returns:
        Tensor: The scalar loss.
    """
    if reduction not in ('batchmean', 'mean'):
        raise ValueError(f"reduction must be 'batchmean' or 'mean', got "
                         f'{reduction!r}')
    log_prob = F.log_softmax(logits / temperature, dim=1)
    log_target = F.log_softmax(target_logits / target_temperature, dim=1)
    # Summed, then divided here: torch warns on every call of
    # F.kl_div(reduction='mean') that its meaning will change.
    total = F.kl_div(log_prob, log_target, reduction='sum', log_target=True)
    return total / (logits.numel() if reduction == 'mean' else len(logits))
