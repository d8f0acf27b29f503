"""CRD's per-image memory banks: initialisation, update rule, negative
sampling, checkpoints and DDP."""
import math

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

from mmseed.errors import CheckpointError, ConfigError
from mmseed.models.memories import ContrastBanks


def test_starts_uniform_in_the_reference_range():
    torch.manual_seed(0)
    banks = ContrastBanks(dim=12, num_negatives=4, num_samples=500)
    bound = 1 / math.sqrt(12 / 3)
    for bank in (banks.student, banks.teacher):
        assert bank.shape == (500, 12)
        assert bank.abs().max() <= bound
        assert bank.abs().max() > 0.95 * bound
    assert not torch.equal(banks.student, banks.teacher)
    assert banks.normalizers.tolist() == [-1., -1.]


def test_update_is_momentum_mix_renormalised():
    banks = ContrastBanks(dim=3, num_negatives=2, momentum=0.5,
                          num_samples=6)
    before_s, before_t = banks.student.clone(), banks.teacher.clone()
    new_s = F.normalize(torch.randn(2, 3), dim=1)
    new_t = F.normalize(torch.randn(2, 3), dim=1)
    banks.update(torch.tensor([4, 1]), new_s, new_t)
    for bank, before, new in ((banks.student, before_s, new_s),
                              (banks.teacher, before_t, new_t)):
        expected = 0.5 * before[[4, 1]] + 0.5 * new
        expected = expected / expected.norm(dim=1, keepdim=True)
        torch.testing.assert_close(bank[[4, 1]], expected)
        untouched = [0, 2, 3, 5]
        assert torch.equal(bank[untouched], before[untouched])


def test_duplicate_index_keeps_the_last_embedding():
    banks = ContrastBanks(dim=2, num_negatives=1, momentum=0., num_samples=3)
    banks.update(torch.tensor([2, 2]), torch.tensor([[1., 0.], [0., 1.]]),
                 torch.tensor([[1., 0.], [0., 1.]]))
    assert banks.student[2].tolist() == [0., 1.]


def test_uniform_negatives_never_the_image_itself():
    torch.manual_seed(0)
    banks = ContrastBanks(dim=2, num_negatives=3, negatives='uniform',
                          num_samples=5)
    index = torch.tensor([0, 3, 4, 3] * 50)
    rows = banks.sample(index)
    assert rows.shape == (200, 4)
    assert torch.equal(rows[:, 0], index)
    assert (rows[:, 1:] != index[:, None]).all()
    # Every other image is drawn (uniform over the N - 1 others).
    assert set(rows[index == 3, 1:].flatten().tolist()) == {0, 1, 2, 4}


def test_class_aware_negatives_never_of_the_image_class():
    torch.manual_seed(0)
    labels = torch.tensor([2, 0, 1, 0, 2, 1, 1, 0, 2, 2])
    banks = ContrastBanks(dim=2, num_negatives=4, negatives='class')
    banks.allocate(10, labels)
    index = torch.arange(10).repeat(30)
    rows = banks.sample(index)
    assert torch.equal(rows[:, 0], index)
    negative_labels = labels[rows[:, 1:]]
    assert (negative_labels != labels[index][:, None]).all()
    # All images of the other classes are reachable.
    assert set(rows[index == 0, 1:].flatten().tolist()) == {1, 2, 3, 5, 6, 7}


def test_read_returns_rows_of_both_banks():
    banks = ContrastBanks(dim=3, num_negatives=1, num_samples=4)
    rows = torch.tensor([[1, 3], [2, 0]])
    student, teacher = banks.read(rows)
    assert student.shape == teacher.shape == (2, 2, 3)
    assert torch.equal(student[1, 0], banks.student[2])
    assert torch.equal(teacher[0, 1], banks.teacher[3])


def test_normaliser_fixed_on_the_first_batch():
    banks = ContrastBanks(dim=2, num_negatives=1, num_samples=10)
    first = torch.full((2, 2), 3.)
    s, t = banks.normalise(first, 2 * first)
    assert banks.normalizers.tolist() == [30., 60.]
    torch.testing.assert_close(s, first / 30)
    s, _ = banks.normalise(10 * first, first)
    torch.testing.assert_close(s, 10 * first / 30)


@pytest.mark.parametrize('kwargs, match', [
    (dict(num_negatives=10, num_samples=10), 'num_negatives=10'),
    (dict(negatives='exact'), "'uniform' or 'class'"),
    (dict(momentum=1.), 'momentum'),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ContrastBanks(dim=2, **kwargs)


def test_size_other_than_the_dataset_is_refused():
    banks = ContrastBanks(dim=2, num_negatives=2, num_samples=8)
    with pytest.raises(ConfigError, match='hold 8 rows but the training set '
                       'has 10 images'):
        banks.allocate(10)
    banks.allocate(8)  # the same size: kept


def test_unsized_and_label_errors():
    banks = ContrastBanks(dim=2, num_negatives=2, negatives='class')
    with pytest.raises(ConfigError, match='MemoryBankHook'):
        banks.sample(torch.tensor([0]))
    banks.allocate(6)
    with pytest.raises(ConfigError, match='MemoryBankHook'):
        banks.sample(torch.tensor([0]))  # class-aware, no labels yet
    with pytest.raises(ConfigError, match="negatives='uniform'"):
        banks.set_labels(None)  # a training set without labels
    with pytest.raises(ConfigError, match='1 unlabelled'):
        banks.allocate(6, torch.tensor([0, 1, 0, 1, -1, 0]))
    with pytest.raises(ConfigError, match='two classes'):
        banks.allocate(6, torch.zeros(6))


def test_checkpoint_round_trip_and_unsized_load():
    banks = ContrastBanks(dim=3, num_negatives=2, num_samples=7)
    banks.update(torch.tensor([1]), torch.ones(1, 3), torch.ones(1, 3))
    banks.normalise(torch.ones(1, 3), torch.ones(1, 3))
    state = banks.state_dict()
    assert set(state) == {'student', 'teacher', 'normalizers'}
    restored = ContrastBanks(dim=3, num_negatives=2)  # unsized: adopts it
    restored.load_state_dict(state)
    for name in state:
        assert torch.equal(getattr(restored, name), state[name])
    other = ContrastBanks(dim=3, num_negatives=2, num_samples=9)
    with pytest.raises(CheckpointError, match='hold 7 rows of 3 but this '
                       'run has 9'):
        other.load_state_dict(state)


def _ddp_worker(rank, world_size, init_file, result_file):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world_size)
    torch.manual_seed(rank)  # different draws: the allocation broadcasts
    banks = ContrastBanks(dim=4, num_negatives=3, num_samples=12)
    for step in range(2):
        index = torch.tensor([4 * step + 2 * rank, 4 * step + 2 * rank + 1])
        new = F.normalize(torch.randn(2, 4), dim=1)
        banks.normalise(torch.full((2, 4), 1. + rank),
                        torch.full((2, 4), 2. + rank))
        banks.update(index, new, -new)
    torch.save(banks.state_dict(), f'{result_file}.{rank}')
    dist.destroy_process_group()


def test_two_process_gloo_ranks_hold_identical_banks(tmp_path):
    mp.spawn(_ddp_worker,
             args=(2, tmp_path / 'init', str(tmp_path / 'banks')),
             nprocs=2, join=True)
    states = [torch.load(tmp_path / f'banks.{r}') for r in range(2)]
    for name in ('student', 'teacher', 'normalizers'):
        assert torch.equal(states[0][name], states[1][name])
    # Rows 0-7 were updated by one rank or the other; 8-11 untouched.
    torch.manual_seed(0)
    initial = ContrastBanks(dim=4, num_negatives=3, num_samples=12)
    assert torch.equal(states[0]['student'][8:], initial.student[8:])
    assert not torch.equal(states[0]['student'][:8], initial.student[:8])
    # Z from both ranks' first batch: mean(1, 2) x 12, mean(2, 3) x 12.
    assert states[0]['normalizers'].tolist() == [18., 30.]
