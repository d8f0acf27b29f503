"""MemoryBankHook sizes the banks from the training set and labels them."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.dataset import ConcatDataset, RepeatDataset
from mmpretrain.datasets import CustomDataset
from PIL import Image

from mmseed.engine.hooks import MemoryBankHook
from mmseed.engine.hooks.memory_bank_hook import dataset_size_and_labels
from mmseed.errors import ConfigError
from mmseed.models.memories import ContrastBanks


@pytest.fixture
def folder(tmp_path):
    for label, count in (('a', 3), ('b', 2)):
        (tmp_path / label).mkdir()
        for i in range(count):
            Image.new('RGB', (4, 4)).save(tmp_path / label / f'{i}.png')
    return tmp_path


def test_size_and_labels_of_a_folder_and_of_a_repeat(folder):
    dataset = CustomDataset(data_root=str(folder))
    n, labels = dataset_size_and_labels(dataset)
    assert n == 5 and labels.tolist() == [0, 0, 0, 1, 1]
    # RepeatDataset yields the inner indices: the inner size.
    n, _ = dataset_size_and_labels(RepeatDataset(dataset, times=3))
    assert n == 5


def test_no_labels_and_concat(folder):
    unlabelled = CustomDataset(data_root=str(folder), with_label=False)
    assert dataset_size_and_labels(unlabelled) == (5, None)
    with pytest.raises(ConfigError, match='restarts at 0 in each part'):
        dataset_size_and_labels(ConcatDataset([unlabelled, unlabelled]))


def test_hook_sizes_every_bank_and_labels_the_class_aware_one(folder):
    model = torch.nn.Module()
    model.uniform = ContrastBanks(dim=2, num_negatives=1)
    model.aware = ContrastBanks(dim=2, num_negatives=1, negatives='class')
    logs = []
    runner = SimpleNamespace(
        model=model, logger=SimpleNamespace(info=logs.append),
        train_dataloader=SimpleNamespace(
            dataset=CustomDataset(data_root=str(folder))))
    MemoryBankHook().before_train(runner)
    assert model.uniform.num_samples == model.aware.num_samples == 5
    assert logs == ['memory banks sized for 5 training images']
    rows = model.aware.sample(torch.tensor([0, 4]))
    assert set(rows[0, 1:].tolist()) <= {3, 4}
    assert set(rows[1, 1:].tolist()) <= {0, 1, 2}
    # Without labels the class-aware bank is refused, the uniform one not.
    runner.train_dataloader.dataset = CustomDataset(data_root=str(folder),
                                                    with_label=False)
    with pytest.raises(ConfigError, match="negatives='uniform'"):
        MemoryBankHook().before_train(runner)
