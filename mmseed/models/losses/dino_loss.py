"""DINO's view loss (Caron et al., 2021) and EsViT's region-matching loss
(Li et al., 2021), as pure functions on the heads' logits.

The teacher's centre and temperature are inputs: the centre is state of the
teacher's head (:class:`~mmseed.models.heads.DINOHead`), the temperature a
schedule of the algorithm. Both losses average over the same pairs
(teacher global crop ``i``, student crop ``v != i``), so EsViT's per-pair
``0.5 * view + 0.5 * region`` is ``0.5 * dino_view_loss + 0.5 *
region_matching_loss`` (microsoft/esvit ``main_esvit.py``, ``DDINOLoss``).
Everything is computed in fp32: a teacher temperature of 0.04 over 65,536
logits loses the target's mass in half precision.
"""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .functional import fp32

__all__ = ['dino_targets', 'dino_view_loss', 'region_matching_loss']


def _pairs(num_targets: int, num_students: int):
    pairs = [(i, v) for i in range(num_targets) for v in range(num_students)
             if v != i]
    if not pairs:
        raise ValueError(f'{num_targets} teacher and {num_students} student '
                         'crops make no (teacher i, student v != i) pair')
    return pairs


@fp32
def dino_targets(teacher_logits: Tensor, center: Tensor,
                 temperature: float) -> Tensor:
    """``softmax((t - center) / T)``, detached: the teacher's targets.

    Args:
        teacher_logits (Tensor): (..., K) teacher head outputs.
        center (Tensor): (1, K) the teacher head's centre.
        temperature (float): The teacher temperature T (e.g. 0.04 -> 0.07).

    Returns:
        Tensor: (..., K) probabilities.
    """
    return F.softmax((teacher_logits.detach() - center) / temperature,
                     dim=-1)


def _cross_entropy(targets: Tensor, logits: Tensor,
                   temperature: float) -> Tensor:
    """``-sum_k q log softmax(s / T)`` over the last dimension."""
    return -(targets * F.log_softmax(logits / temperature, dim=-1)).sum(-1)


def _floats(tensors) -> List[Tensor]:
    return [t.float() for t in tensors]


@fp32
def _view_loss(student, targets, student_temp):
    student, targets = _floats(student), _floats(targets)
    total = sum(_cross_entropy(targets[i], student[v], student_temp).mean()
                for i, v in _pairs(len(targets), len(student)))
    return total / len(_pairs(len(targets), len(student)))


def dino_view_loss(student_logits: Sequence[Tensor],
                   targets: Sequence[Tensor],
                   student_temp: float = 0.1) -> Tensor:
    """DINO's cross-entropy of every student crop against every other
    crop's teacher target.

    Args:
        student_logits (Sequence[Tensor]): Per student crop (global crops
            first, in the teacher's order), (N, K) logits.
        targets (Sequence[Tensor]): Per teacher crop, (N, K) from
            :func:`dino_targets`.
        student_temp (float): Defaults to 0.1.

    Returns:
        Tensor: The mean over pairs of the batch-mean cross-entropy.
    """
    return _view_loss(list(student_logits), list(targets), student_temp)


@fp32
def _region_loss(student, targets, student_feats, teacher_feats,
                 student_temp):
    student, targets = _floats(student), _floats(targets)
    student_feats, teacher_feats = _floats(student_feats), _floats(
        teacher_feats)
    total = 0.
    pairs = _pairs(len(targets), len(student))
    for i, v in pairs:
        similarity = torch.bmm(F.normalize(student_feats[v], dim=-1),
                               F.normalize(teacher_feats[i], dim=-1)
                               .transpose(1, 2))  # (N, T_s, T_t)
        match = similarity.argmax(dim=2)  # teacher token of each student's
        matched = torch.gather(
            targets[i], 1,
            match.unsqueeze(2).expand(-1, -1, targets[i].shape[2]))
        total = total + _cross_entropy(matched, student[v],
                                       student_temp).mean()
    return total / len(pairs)


def region_matching_loss(student_logits: Sequence[Tensor],
                         targets: Sequence[Tensor],
                         student_feats: Sequence[Tensor],
                         teacher_feats: Sequence[Tensor],
                         student_temp: float = 0.1) -> Tensor:
    """EsViT's region loss: each student token learns the target of the
    teacher token most similar to it.

    For a pair (teacher crop i, student crop v), student token ``t`` is
    matched to ``argmax_j cos(f_s[t], f_t[j])`` over the teacher's tokens,
    the cosine of the *backbone* token features (not the head outputs), and
    its region logits get the cross-entropy against that token's target;
    the mean over tokens and images, then over pairs.

    Args:
        student_logits (Sequence[Tensor]): Per student crop, (N, T_s, K)
            region-head logits.
        targets (Sequence[Tensor]): Per teacher crop, (N, T_t, K) from
            :func:`dino_targets` of the teacher's region head.
        student_feats (Sequence[Tensor]): Per student crop, (N, T_s, D)
            backbone tokens.
        teacher_feats (Sequence[Tensor]): Per teacher crop, (N, T_t, D).
        student_temp (float): Defaults to 0.1.

    Returns:
        Tensor: The scalar loss.
    """
    return _region_loss(list(student_logits), list(targets),
                        list(student_feats), list(teacher_feats),
                        student_temp)
