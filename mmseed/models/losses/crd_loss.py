"""The NCE objective of contrastive representation distillation (Tian,
Krishnan, Isola, "Contrastive Representation Distillation", ICLR 2020).

Pure functions; the memory banks, the sampled rows and the normalising
constant Z are state and live in
:class:`~mmseed.models.memories.ContrastBanks`.
"""
import torch
from torch import Tensor

from .functional import fp32

__all__ = ['contrast_scores', 'crd_nce_loss']

# Added to the denominators, as HobbitLong/RepDistiller crd/criterion.py.
EPS = 1e-7


@fp32
def contrast_scores(anchor: Tensor, rows: Tensor,
                    temperature: float = 0.07) -> Tensor:
    """Unnormalised scores ``exp(<row, anchor> / T)`` of bank rows.

    In fp32: ``exp(1 / 0.07)`` is 1.6e6, beyond half precision's range.

    Args:
        anchor (Tensor): (B, D) L2-normalised embeddings of one network.
        rows (Tensor): (B, K + 1, D) rows of the other network's bank for
            each anchor: its positive first, then K negatives.
        temperature (float): T. Defaults to 0.07 (paper, ``--nce_t``).

    Returns:
        Tensor: (B, K + 1) scores, the positive first.
    """
    if rows.dim() != 3 or rows.shape[0] != anchor.shape[0] \
            or rows.shape[2] != anchor.shape[1]:
        raise ValueError(f'rows {tuple(rows.shape)} do not match anchors '
                         f'{tuple(anchor.shape)}: need (B, K + 1, D)')
    return torch.exp(torch.bmm(rows, anchor.unsqueeze(2)).squeeze(2) /
                     temperature)


@fp32
def crd_nce_loss(probs: Tensor, num_samples: int) -> Tensor:
    """NCE loss of one anchor direction (paper eq. 18).

    ``probs`` are scores divided by Z, estimates of ``P(data | pair)``; with
    ``K`` noise samples from a uniform distribution over ``N`` images, the
    posterior that a pair is the positive is ``h = P / (P + K / N)``, and the
    loss is ``-[log h_pos + sum_neg log(1 - h_neg)]`` averaged over the
    batch. CRD sums this over its two directions (teacher anchor against the
    student bank, student anchor against the teacher bank).

    Args:
        probs (Tensor): (B, K + 1) normalised scores, the positive first.
        num_samples (int): N, the number of images in the banks.

    Returns:
        Tensor: The scalar loss.
    """
    if probs.dim() != 2 or probs.shape[1] < 2:
        raise ValueError(f'probs must be (B, K + 1) with K >= 1, got '
                         f'{tuple(probs.shape)}')
    noise = (probs.shape[1] - 1) / num_samples  # K * P_noise
    log_pos = torch.log(probs[:, 0] / (probs[:, 0] + noise + EPS))
    log_neg = torch.log(noise / (probs[:, 1:] + noise + EPS))
    return -(log_pos.sum() + log_neg.sum()) / probs.shape[0]
