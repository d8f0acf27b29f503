"""Sizing the model's per-image memory banks from the training set."""
from typing import Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmseed.errors import ConfigError
from mmseed.models.memories import ContrastBanks
from mmseed.registry import HOOKS

__all__ = ['MemoryBankHook']


def dataset_size_and_labels(dataset) -> Tuple[int, Optional[torch.Tensor]]:
    """The number of distinct ``sample_idx`` values a training set yields,
    and its labels (None without labels).

    Wrappers that repeat one dataset (``RepeatDataset``,
    ``ClassBalancedDataset``) keep the inner dataset's indices; a
    ``ConcatDataset`` gives each part indices from 0, so two images would
    share a bank row, and is refused.
    """
    while hasattr(dataset, 'dataset') and not hasattr(dataset, 'datasets'):
        dataset = dataset.dataset
    if hasattr(dataset, 'datasets'):
        raise ConfigError(
            'per-image memory banks are indexed by data_sample.sample_idx, '
            f'which {type(dataset).__name__} restarts at 0 in each part, so '
            'two images would share a row: list all training images in one '
            'annotation file (one dataset)')
    try:
        labels = torch.as_tensor(dataset.get_gt_labels(), dtype=torch.long)
    except (AttributeError, KeyError, TypeError, ValueError):
        labels = None
    return len(dataset), labels


@HOOKS.register_module()
class MemoryBankHook(Hook):
    """Size every :class:`~mmseed.models.memories.ContrastBanks` of the model
    to ``train_dataloader.dataset`` before training, and give it the labels
    for class-aware negatives.

    Runs before the first epoch, after a resume has loaded banks from the
    checkpoint; those are kept when their size matches the dataset.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        banks = [m for m in model.modules() if isinstance(m, ContrastBanks)]
        if not banks:
            return
        num_samples, labels = dataset_size_and_labels(
            runner.train_dataloader.dataset)
        for bank in banks:
            bank.allocate(num_samples)
            if bank.class_aware:
                bank.set_labels(labels)
        runner.logger.info(
            f'memory banks sized for {num_samples} training images')
