"""kNN accuracy of features against a bank of labelled training features."""
import logging
from typing import List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmpretrain.evaluation import Accuracy
from torch import Tensor

from mmseed.evaluation.functional import weighted_knn_scores
from mmseed.registry import METRICS

__all__ = ['KNNAccuracy']


@METRICS.register_module()
class KNNAccuracy(BaseMetric):
    """Top-k accuracy of weighted kNN classification (InstDisc / DINO).

    The queries are the evaluated split's features, given to :meth:`process`
    as dicts with ``feat`` (C, ) and ``gt_label``; the bank (training-split
    features and labels) is given by :meth:`set_bank`. ``KNNValLoop`` and
    ``KNNTestLoop`` do both. Results are named ``knn/top{t}_k{k}``, in percent.
    A top-t accuracy counts only classes that received votes, and is skipped
    when there are fewer than ``t`` classes.

    Args:
        k (Sequence[int]): Numbers of neighbours; 20 and 200 as in InstDisc
            (Wu et al., 2018) and DINO (Caron et al., 2021). A ``k`` larger
            than the bank is clipped to it, with a warning.
        temperature (float): Vote temperature; 0.07 as in both papers.
        topk (Sequence[int]): Accuracies to report. Defaults to (1, 5).
        chunk_size (int): Queries per similarity block. Defaults to 256.
        device (str, optional): Where the kNN search runs; CUDA when
            available by default.
        collect_device (str): Device for collecting results across ranks,
            'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the metric names. Defaults to
            'knn'.
    """
    default_prefix = 'knn'

    def __init__(self,
                 k: Sequence[int] = (20, 200),
                 temperature: float = 0.07,
                 topk: Sequence[int] = (1, 5),
                 chunk_size: int = 256,
                 device: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.k = tuple(k)
        self.temperature = temperature
        self.topk = tuple(topk)
        self.chunk_size = chunk_size
        self.device = device or ('cuda' if torch.cuda.is_available() else
                                 'cpu')
        self.bank_feats: Optional[Tensor] = None
        self.bank_labels: Optional[Tensor] = None

    def set_bank(self, feats: Optional[Tensor],
                 labels: Optional[Tensor]) -> None:
        """Set the bank the next evaluation compares queries to.

        Args:
            feats (Tensor, optional): Bank features (N, C); None on ranks
                other than the main one, which alone computes the metric.
            labels (Tensor, optional): Their labels (N, ).
        """
        self.bank_feats, self.bank_labels = feats, labels

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store each query's feature and label.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): Dicts with ``feat`` (C, ) and
                ``gt_label`` (a one-element tensor or an int).
        """
        for sample in data_samples:
            # A copy, not a view: collecting across ranks pickles the tensor,
            # and a view would carry the whole batch's storage along.
            self.results.append(
                dict(feat=sample['feat'].detach().to('cpu', copy=True),
                     label=int(sample['gt_label'])))

    def compute_metrics(self, results: List[dict]) -> dict:
        """Run the kNN search of every query and score the predictions.

        Args:
            results (List[dict]): The processed queries of every rank.

        Returns:
            dict: ``top{t}_k{k}`` accuracies in percent.
        """
        if self.bank_feats is None:
            raise RuntimeError(
                'KNNAccuracy has no feature bank: evaluate it with '
                "val_cfg=dict(type='KNNValLoop', bank_dataloader=...) or "
                "test_cfg=dict(type='KNNTestLoop', bank_dataloader=...)")
        bank_feats, bank_labels = self.bank_feats, self.bank_labels
        self.set_bank(None, None)  # free the bank until the next evaluation
        feats = torch.stack([r['feat'] for r in results])
        labels = torch.tensor([r['label'] for r in results])
        num_classes = int(max(bank_labels.max(), labels.max())) + 1
        if max(self.k) > len(bank_labels):
            print_log(
                f'kNN: k={max(self.k)} exceeds the bank of '
                f'{len(bank_labels)} samples; all of them vote',
                logger='current', level=logging.WARNING)
        scores = weighted_knn_scores(
            bank_feats.to(self.device), bank_labels.to(self.device),
            feats.to(self.device), num_classes, self.k, self.temperature,
            self.chunk_size)
        topk = [t for t in self.topk if t <= num_classes]
        metrics = {}
        for k, score in scores.items():
            accuracies = Accuracy.calculate(score.cpu(), labels, topk=topk)
            for t, acc in zip(topk, accuracies):
                metrics[f'top{t}_k{k}'] = acc[0].item()
        return metrics
