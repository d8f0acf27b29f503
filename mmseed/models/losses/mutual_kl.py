"""DoGo's mutual term: each peer's similarity distribution is pulled to the
other's (Bhat et al., "Distill on the Go", 2021)."""
from typing import Tuple

from torch import Tensor

from .functional import cosine_similarity_matrix, fp32, kl_divergence

__all__ = ['similarity_kl', 'mutual_similarity_kl']


@fp32
def similarity_kl(x1: Tensor,
                  x2: Tensor,
                  t1: Tensor,
                  t2: Tensor,
                  temperature: float = 0.1,
                  reduction: str = 'mean') -> Tensor:
    """``KL(P_t || P_x)`` of two peers' similarity distributions, ``P_t``
    detached: ``P[i, j] = softmax_j(cos(v1_i, v2_j) / temperature)`` over
    each peer's own two views. See :func:`mutual_similarity_kl`."""
    logits = cosine_similarity_matrix(x1, x2) / temperature
    target = cosine_similarity_matrix(t1, t2) / temperature
    return kl_divergence(logits, target.detach(), reduction=reduction)


@fp32
def mutual_similarity_kl(a1: Tensor,
                         a2: Tensor,
                         b1: Tensor,
                         b2: Tensor,
                         temperature: float = 0.1,
                         reduction: str = 'mean') -> Tuple[Tensor, Tensor]:
    """The KL terms of two peers a and b, each against the other, detached.

    For each peer, ``S[i, j] = cos(x1_i, x2_j) / temperature`` over its two
    views of the batch, softmax over ``j`` (N x N, the positive pair on the
    diagonal). Peer a gets ``KL(P_b || P_a)`` with ``P_b`` detached, peer b
    ``KL(P_a || P_b)`` with ``P_a`` detached (NeurAI-Lab/DoGo
    ``criterion/kl.py``), so each term trains only its own peer.

    Args:
        a1, a2 (Tensor): Peer a's (N, D) embeddings of views 1 and 2.
        b1, b2 (Tensor): Peer b's (N, D') embeddings of its views 1 and 2.
        temperature (float): Defaults to 0.1 (DoGo's ``KL_temperature``).
        reduction (str): ``'mean'``, the official ``F.kl_div`` default, the
            mean over all N x N elements; ``'batchmean'``, the KL divergence
            proper (sum over j, mean over i), N times larger: with it, the
            official weights (100 and 1) become 100 / N and 1 / N.

    Returns:
        tuple[Tensor, Tensor]: Peer a's term, peer b's term.
    """
    return (similarity_kl(a1, a2, b1, b2, temperature, reduction),
            similarity_kl(b1, b2, a1, a2, temperature, reduction))
