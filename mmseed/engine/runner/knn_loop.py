"""Validation and test loops that report weighted kNN accuracy of features.

Each run extracts features of a labelled bank (the training split, without
augmentation) and of the evaluated split with the model's ``extract_feat``,
then hands both to the evaluator's ``KNNAccuracy``. With
``train_cfg.val_interval`` a pretraining or distillation run reports the
student's kNN accuracy every N epochs.
"""
import copy
from contextlib import contextmanager
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import collect_results
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop, ValLoop
from mmengine.runner.amp import autocast
from torch import Tensor, nn
from torch.utils.data import DataLoader

from mmseed.registry import LOOPS
from mmseed.errors import ConfigError

__all__ = ['KNNValLoop', 'KNNTestLoop', 'extract_features']


def extract_features(model: nn.Module,
                     data_batch: dict,
                     fp16: bool = False) -> Tuple[Tensor, Tensor]:
    """Global features and labels of one batch, as kNN compares them.

    The batch goes through the model's own data preprocessor (e.g.
    ``ClsDataPreprocessor`` of an ``ImageClassifier``, or
    ``SelfSupDataPreprocessor`` of MoCo / SEED), then ``extract_feat``: the
    last output of a tuple is taken and 4-D maps are global-average-pooled.
    A list of equally sized images (``pseudo_collate``) is stacked first,
    since ``SelfSupDataPreprocessor`` would read a list as views; of a
    multi-view batch, the first view is used.

    Args:
        model (nn.Module): The model, not wrapped in DDP.
        data_batch (dict): A batch from a dataloader, with ``inputs`` and
            ``data_samples`` carrying ``gt_label``.
        fp16 (bool): Run under autocast. Defaults to False.

    Returns:
        Tuple[Tensor, Tensor]: Features (B, C) in fp32 and labels (B, ).
    """
    inputs = data_batch['inputs']
    if (isinstance(inputs, (list, tuple)) and inputs and inputs[0].dim() == 3
            and len({img.shape for img in inputs}) == 1):
        data_batch = dict(data_batch, inputs=torch.stack(list(inputs)))
    data = model.data_preprocessor(data_batch, training=False)
    inputs = data['inputs']
    if isinstance(inputs, (list, tuple)):
        inputs = inputs[0]
    with autocast(enabled=fp16):
        feats = model.extract_feat(inputs)
    if isinstance(feats, (list, tuple)):
        feats = feats[-1]
    if feats.dim() == 4:
        feats = feats.mean(dim=(2, 3))
    samples = data['data_samples']
    if not samples or 'gt_label' not in samples[0]:
        raise ConfigError(
            'kNN evaluation needs labelled data: use a dataset with class '
            'labels (e.g. CustomDataset on a <class>/ folder layout)')
    labels = torch.cat([s.gt_label for s in samples])
    return feats.flatten(1).float(), labels


def _bank_features(model: nn.Module, dataloader: DataLoader, fp16: bool,
                   collect_device: str) -> Tuple[Optional[Tensor],
                                                 Optional[Tensor]]:
    """Features and labels of the whole bank, gathered on the main rank."""
    items = []
    for data_batch in dataloader:
        feats, labels = extract_features(model, data_batch, fp16)
        # Copies of each row: collecting pickles them, and a view would
        # carry the whole batch's storage along.
        items.extend((f.clone(), label)
                     for f, label in zip(feats.cpu(), labels.tolist()))
    # In dataset order, without the samples a distributed sampler repeats.
    items = collect_results(items, len(dataloader.dataset), collect_device)
    if items is None:  # ranks other than the main one
        return None, None
    print_log(f'kNN: {len(items)} bank features', logger='current')
    return (torch.stack([f for f, _ in items]),
            torch.tensor([label for _, label in items]))


@contextmanager
def _missing_data_is_a_config_error(mode: str):
    """Turn a dataset's FileNotFoundError into a one-line ConfigError."""
    try:
        yield
    except FileNotFoundError as err:
        raise ConfigError(
            f'kNN data not found: {err.filename}; point the config at your '
            f'data with --cfg-options {mode}_dataloader.dataset.data_root=PATH'
            f' (the bank, {mode}_cfg.bank_dataloader, reads the same root '
            'unless given its own)') from err


class _KNNLoopMixin:
    """What KNNValLoop and KNNTestLoop share (``mode`` is 'val' or 'test')."""
    mode: str

    def _init_bank(self, bank_dataloader: Union[DataLoader, Dict]) -> None:
        """Build the bank loader and find the kNN metrics.

        A bank dataset config without ``data_root`` reads the query dataset's
        root, so one ``--cfg-options <mode>_dataloader.dataset.data_root=``
        moves both.
        """
        if isinstance(bank_dataloader, dict):
            bank_dataloader = copy.deepcopy(bank_dataloader)
            dataset = bank_dataloader.get('dataset')
            root = getattr(self.dataloader.dataset, 'data_root', None)
            if isinstance(dataset, dict) and root:
                dataset.setdefault('data_root', root)
            bank_dataloader = self.runner.build_dataloader(
                bank_dataloader, seed=self.runner.seed)
        self.bank_dataloader = bank_dataloader
        self.knn_metrics = [
            m for m in self.evaluator.metrics if hasattr(m, 'set_bank')
        ]
        if not self.knn_metrics:
            raise ConfigError(
                f'{type(self).__name__} needs a kNN metric: set '
                f"{self.mode}_evaluator=dict(type='KNNAccuracy')")

    @torch.no_grad()
    def run(self) -> dict:
        """Extract bank and query features, then evaluate.

        Returns:
            dict: The evaluator's metrics, e.g. ``knn/top1_k20``.
        """
        runner, mode = self.runner, self.mode
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        was_training = runner.model.training
        runner.call_hook(f'before_{mode}')
        runner.call_hook(f'before_{mode}_epoch')
        runner.model.eval()
        bank = _bank_features(model, self.bank_dataloader, self.fp16,
                              self.knn_metrics[0].collect_device)
        for metric in self.knn_metrics:
            metric.set_bank(*bank)
        for idx, data_batch in enumerate(self.dataloader):
            runner.call_hook(
                f'before_{mode}_iter', batch_idx=idx, data_batch=data_batch)
            feats, labels = extract_features(model, data_batch, self.fp16)
            outputs: List[dict] = [
                dict(feat=f, gt_label=label) for f, label in zip(feats, labels)
            ]
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
            runner.call_hook(
                f'after_{mode}_iter',
                batch_idx=idx,
                data_batch=data_batch,
                outputs=outputs)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        runner.call_hook(f'after_{mode}_epoch', metrics=metrics)
        runner.call_hook(f'after_{mode}')
        runner.model.train(was_training)
        return metrics


@LOOPS.register_module()
class KNNValLoop(_KNNLoopMixin, ValLoop):
    """Validation by weighted kNN accuracy (see :class:`KNNAccuracy`).

    ``val_cfg=dict(type='KNNValLoop', bank_dataloader=dict(...))``; the
    queries come from ``val_dataloader``. The model is put in eval mode and
    back in its previous mode afterwards.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Query dataloader (or its config).
        evaluator (Evaluator | dict | list): Must hold a ``KNNAccuracy``.
        bank_dataloader (DataLoader | dict): The labelled bank, normally the
            training split without augmentation.
        fp16 (bool): Extract features under autocast. Defaults to False.
    """
    mode = 'val'

    def __init__(self, runner, dataloader, evaluator, bank_dataloader,
                 fp16: bool = False) -> None:
        with _missing_data_is_a_config_error(self.mode):
            super().__init__(runner, dataloader, evaluator, fp16)
            self._init_bank(bank_dataloader)


@LOOPS.register_module()
class KNNTestLoop(_KNNLoopMixin, TestLoop):
    """Testing by weighted kNN accuracy; the test-time :class:`KNNValLoop`.

    ``test_cfg=dict(type='KNNTestLoop', bank_dataloader=dict(...))``; the
    queries come from ``test_dataloader``.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Query dataloader (or its config).
        evaluator (Evaluator | dict | list): Must hold a ``KNNAccuracy``.
        bank_dataloader (DataLoader | dict): The labelled bank.
        fp16 (bool): Extract features under autocast. Defaults to False.
    """
    mode = 'test'

    def __init__(self, runner, dataloader, evaluator, bank_dataloader,
                 fp16: bool = False) -> None:
        with _missing_data_is_a_config_error(self.mode):
            super().__init__(runner, dataloader, evaluator, fp16)
            self._init_bank(bank_dataloader)
