"""Weighted k-nearest-neighbour classification of features.

The protocol of InstDisc (Wu et al., "Unsupervised Feature Learning via
Non-Parametric Instance Discrimination", CVPR 2018) as DINO (Caron et al.,
ICCV 2021; ``eval_knn.py`` of facebookresearch/dino) runs it: features are
L2-normalised, each query's ``k`` most cosine-similar bank samples vote for
their class with weight ``exp(similarity / T)``, and the class with the largest
summed vote is the prediction; k = 20 or 200 and T = 0.07.
"""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['weighted_knn_scores', 'weighted_knn_predict']


def _check_inputs(bank_feats: Tensor, bank_labels: Tensor,
                  query_feats: Tensor, num_classes: int, ks: Sequence[int],
                  temperature: float, chunk_size: int) -> None:
    """Raise ``ValueError`` naming the first bad argument."""
    if bank_feats.dim() != 2 or query_feats.dim() != 2:
        raise ValueError(
            'kNN needs 2-D features (N, C), got bank '
            f'{tuple(bank_feats.shape)} and queries {tuple(query_feats.shape)}'
            '; pool feature maps first')
    if bank_feats.size(0) == 0:
        raise ValueError('kNN needs a non-empty feature bank')
    if bank_feats.size(1) != query_feats.size(1):
        raise ValueError(
            f'bank and query feature widths differ ({bank_feats.size(1)} vs '
            f'{query_feats.size(1)}): extract both with the same model')
    if bank_labels.shape != (bank_feats.size(0), ):
        raise ValueError(
            f'bank_labels must have shape ({bank_feats.size(0)},), one label '
            f'per bank feature, got {tuple(bank_labels.shape)}')
    if bank_labels.min() < 0 or bank_labels.max() >= num_classes:
        raise ValueError(
            f'bank labels must lie in [0, {num_classes}), got '
            f'[{int(bank_labels.min())}, {int(bank_labels.max())}]')
    if not ks or min(ks) < 1:
        raise ValueError(f'k must be positive integers, got {tuple(ks)}')
    if temperature <= 0 or chunk_size < 1:
        raise ValueError('temperature and chunk_size must be positive, got '
                         f'{temperature} and {chunk_size}')


def weighted_knn_scores(bank_feats: Tensor,
                        bank_labels: Tensor,
                        query_feats: Tensor,
                        num_classes: int,
                        ks: Sequence[int] = (20, 200),
                        temperature: float = 0.07,
                        chunk_size: int = 256) -> Dict[int, Tensor]:
    """Class scores of weighted kNN for several ``k`` at once.

    The similarities of ``chunk_size`` queries at a time are computed, so
    memory stays at ``chunk_size x N`` whatever the number of queries. A ``k``
    larger than the bank is clipped to the bank size (every bank sample
    votes). Among bank samples equally similar to a query at the k-th place,
    ``torch.topk`` picks which vote.

    Args:
        bank_feats (Tensor): Bank (training-set) features, (N, C).
        bank_labels (Tensor): Their integer labels, (N, ).
        query_feats (Tensor): Query features, (Q, C).
        num_classes (int): Number of classes C'; labels lie in [0, C').
        ks (Sequence[int]): Numbers of neighbours. Defaults to (20, 200).
        temperature (float): Temperature T of the vote weights
            ``exp(cos / T)``. Defaults to 0.07.
        chunk_size (int): Queries per similarity block. Defaults to 256.

    Returns:
        Dict[int, Tensor]: For each ``k``, the summed votes (Q, C'); the
        prediction is their argmax.
    """
    _check_inputs(bank_feats, bank_labels, query_feats, num_classes, ks,
                  temperature, chunk_size)
    bank = F.normalize(bank_feats.float(), dim=1)
    queries = F.normalize(query_feats.float(), dim=1)
    bank_labels = bank_labels.to(bank.device, torch.long)
    clipped = {k: min(k, bank.size(0)) for k in ks}
    scores = {k: [] for k in ks}
    for chunk in queries.split(chunk_size):
        # The most similar max(k) bank samples, most similar first: the k
        # nearest are their first k columns.
        sims, idx = (chunk @ bank.T).topk(max(clipped.values()), dim=1)
        weights = (sims / temperature).exp()
        labels = bank_labels[idx]
        for k, n in clipped.items():
            votes = weights.new_zeros(chunk.size(0), num_classes)
            scores[k].append(
                votes.scatter_add_(1, labels[:, :n], weights[:, :n]))
    return {
        k: torch.cat(v) if v else queries.new_zeros(0, num_classes)
        for k, v in scores.items()
    }


def weighted_knn_predict(bank_feats: Tensor,
                         bank_labels: Tensor,
                         query_feats: Tensor,
                         num_classes: int,
                         k: int = 20,
                         temperature: float = 0.07,
                         chunk_size: int = 256) -> Tensor:
    """Class scores of weighted kNN with one ``k``.

    Args:
        bank_feats (Tensor): Bank (training-set) features, (N, C).
        bank_labels (Tensor): Their integer labels, (N, ).
        query_feats (Tensor): Query features, (Q, C).
        num_classes (int): Number of classes.
        k (int): Number of neighbours, clipped to N. Defaults to 20.
        temperature (float): Vote temperature. Defaults to 0.07.
        chunk_size (int): Queries per similarity block. Defaults to 256.

    Returns:
        Tensor: Summed votes (Q, num_classes); ``.argmax(1)`` predicts.
    """
    return weighted_knn_scores(bank_feats, bank_labels, query_feats,
                               num_classes, (k, ), temperature,
                               chunk_size)[k]
