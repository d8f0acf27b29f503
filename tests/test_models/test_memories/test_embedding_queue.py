"""EmbeddingQueue: FIFO contents, wrap-around, checkpoints, DDP gathering."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmseed.models.memories import EmbeddingQueue


def ids(start, count, dim=3):
    """Embeddings whose every entry is their index, to read FIFO order."""
    return torch.arange(start, start + count).float()[:, None].repeat(1, dim)


def oldest_to_newest(queue):
    return torch.roll(queue.embeddings, -int(queue.ptr), dims=0)[:, 0]


@pytest.mark.parametrize('batch', [2, 3, 5])  # 3 does not divide 10
def test_holds_exactly_the_last_k_in_fifo_order(batch):
    queue = EmbeddingQueue(10, 3)
    for step in range(7):
        queue.enqueue(ids(step * batch, batch))
    total = 7 * batch
    assert oldest_to_newest(queue).tolist() == list(range(total - 10, total))


def test_starts_with_unit_vectors():
    queue = EmbeddingQueue(50, 8)
    assert torch.allclose(queue.embeddings.norm(dim=1), torch.ones(50))


def test_batch_larger_than_queue_is_a_clear_error():
    with pytest.raises(ValueError, match='queue length 4 is smaller than the '
                       'global batch 6'):
        EmbeddingQueue(4, 3).enqueue(ids(0, 6))


def test_wrong_width_is_a_clear_error():
    with pytest.raises(ValueError, match='3-d embeddings'):
        EmbeddingQueue(8, 3).enqueue(torch.zeros(2, 5))


def test_state_dict_round_trip():
    queue = EmbeddingQueue(10, 3)
    queue.enqueue(ids(0, 7))
    restored = EmbeddingQueue(10, 3)
    restored.load_state_dict(queue.state_dict())
    assert torch.equal(restored.embeddings, queue.embeddings)
    assert int(restored.ptr) == 7
    restored.enqueue(ids(7, 4))
    assert oldest_to_newest(restored).tolist() == list(range(1, 11))


def _ddp_worker(rank, world_size, init_file, result_file):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                           rank=rank, world_size=world_size)
    queue = EmbeddingQueue(8, 3)
    # Rank r enqueues ids 100r, 100r+1 on step 0 and 100r+2, 100r+3 on step 1.
    for step in range(2):
        queue.enqueue(ids(100 * rank + 2 * step, 2))
    torch.save(queue.state_dict(), f'{result_file}.{rank}')
    dist.destroy_process_group()


def test_two_process_gloo_queue_holds_both_ranks(tmp_path):
    mp.spawn(_ddp_worker,
             args=(2, tmp_path / 'init', str(tmp_path / 'queue')),
             nprocs=2, join=True)
    states = [torch.load(tmp_path / f'queue.{r}') for r in range(2)]
    assert torch.equal(states[0]['embeddings'], states[1]['embeddings'])
    queue = EmbeddingQueue(8, 3)
    queue.load_state_dict(states[0])
    # Each step gathers rank 0's batch then rank 1's.
    assert oldest_to_newest(queue).tolist() == [0, 1, 100, 101, 2, 3, 102, 103]
