"""NT-Xent on 2 gloo processes equals the single-process value and gradient
on the same global batch."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmseed.models.losses import nt_xent

N, D = 4, 8
LARGE_NUM = 1e9


def simclr_replica_loss(h1, h2, g1, g2, replica, temperature):
    """google-research/simclr tf2/objective.py, written from its formula:
    one replica's n anchors of each view against the gathered 2N, the own
    column masked with -1e9; CE(ab|aa) + CE(ba|bb), each averaged over n."""
    h1, h2 = torch.nn.functional.normalize(h1, dim=1), \
        torch.nn.functional.normalize(h2, dim=1)
    g1, g2 = torch.nn.functional.normalize(g1, dim=1), \
        torch.nn.functional.normalize(g2, dim=1)
    n = len(h1)
    labels = torch.arange(n) + replica * n
    mask = torch.nn.functional.one_hot(labels, len(g1)) * LARGE_NUM
    aa = h1 @ g1.T / temperature - mask
    bb = h2 @ g2.T / temperature - mask
    ab = h1 @ g2.T / temperature
    ba = h2 @ g1.T / temperature
    ce = torch.nn.functional.cross_entropy
    return ce(torch.cat([ab, aa], 1), labels) + \
        ce(torch.cat([ba, bb], 1), labels)


def global_batch():
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(2 * N, D, generator=generator),
            torch.randn(2 * N, D, generator=generator))


def worker(rank, port, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        z1, z2 = global_batch()
        mine = slice(rank * N, (rank + 1) * N)
        z1 = z1[mine].clone().requires_grad_()
        z2 = z2[mine].clone().requires_grad_()
        loss = nt_xent(z1, z2)
        g1, g2 = global_batch()
        official = simclr_replica_loss(z1.detach(), z2.detach(), g1, g2,
                                       rank, 0.5)
        torch.testing.assert_close(2 * loss.detach(), official)
        loss.backward()
        # DDP averages gradients over the ranks.
        out[rank] = (loss.detach(), z1.grad / 2, z2.grad / 2)
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_equal_one_on_the_global_batch():
    with mp.Manager() as manager:
        out = manager.dict()
        mp.spawn(worker, args=(free_port(), out), nprocs=2, join=True)
        results = dict(out)
    z1, z2 = global_batch()
    z1.requires_grad_()
    z2.requires_grad_()
    single = nt_xent(z1, z2)
    single.backward()
    mean = (results[0][0] + results[1][0]) / 2
    torch.testing.assert_close(mean, single.detach())
    grad1 = torch.cat([results[0][1], results[1][1]])
    grad2 = torch.cat([results[0][2], results[1][2]])
    torch.testing.assert_close(grad1, z1.grad)
    torch.testing.assert_close(grad2, z2.grad)


def test_single_process_equals_the_official_formula_halved():
    """SimCLR's objective sums the two views' CE (each a mean over N): 2x
    nt_xent's mean over the 2N anchors (SimCLRv2's loss_weight=2)."""
    z1, z2 = global_batch()
    for temperature in (0.1, 0.5):
        official = simclr_replica_loss(z1, z2, z1, z2, 0, temperature)
        torch.testing.assert_close(2 * nt_xent(z1, z2, temperature),
                                   official)
