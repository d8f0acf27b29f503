"""The DINO head: structure, initialisation, weight-normalised last layer and
the centre update (one process and 2-process gloo)."""
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from mmseed.errors import ConfigError
from mmseed.models.heads import DINOHead, RegionMatchingHead


def test_structure_and_initialisation():
    torch.manual_seed(0)
    head = DINOHead(in_channels=64, out_dim=100, hidden_dim=512,
                    bottleneck_dim=32)
    kinds = [type(m) for m in head.mlp]
    assert kinds == [nn.Linear, nn.GELU, nn.Linear, nn.GELU, nn.Linear]
    linears = [m for m in head.mlp if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (64, 512), (512, 512), (512, 32)]
    for m in linears:
        assert torch.count_nonzero(m.bias) == 0
        # trunc_normal_(std=.02) cut at +-2 (absolute, as DINO's own
        # trunc_normal_): in effect N(0, 0.02).
        assert 0.018 < m.weight.std() < 0.022
    last = head.last_layer
    assert last.weight_v.shape == (100, 32)
    assert not last.weight_g.requires_grad  # norm_last_layer
    assert torch.equal(last.weight_g, torch.ones(100, 1))
    assert head.center.shape == (1, 100)
    assert DINOHead(8, 4, norm_last_layer=False).last_layer.weight_g \
        .requires_grad
    with_bn = DINOHead(8, 4, hidden_dim=16, use_bn=True)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in with_bn.mlp) == 2


def test_forward_normalises_then_projects_with_unit_rows():
    head = DINOHead(in_channels=6, out_dim=5, hidden_dim=8, bottleneck_dim=4)
    x = torch.randn(3, 6)
    z = nn.functional.normalize(head.mlp(x), dim=-1)
    v = head.last_layer.weight_v
    torch.testing.assert_close(head(x), z @ (v / v.norm(dim=1,
                                                         keepdim=True)).T)
    tokens = RegionMatchingHead(in_channels=6, out_dim=5, hidden_dim=8,
                                bottleneck_dim=4)(torch.randn(2, 7, 6))
    assert tokens.shape == (2, 7, 5)
    # Official checkpoint names (nn.utils.weight_norm).
    assert {'last_layer.weight_g', 'last_layer.weight_v', 'center'} <= set(
        head.state_dict())


def test_center_update_single_process():
    head = DINOHead(in_channels=2, out_dim=3, center_momentum=0.9)
    head.center.fill_(1.)
    logits = torch.tensor([[[0., 3., 6.], [2., 1., 0.]]])  # (1, 2, 3)
    head.update_center(logits)
    torch.testing.assert_close(head.center,
                               0.9 + 0.1 * torch.tensor([[1., 2., 3.]]))


def test_bad_settings():
    with pytest.raises(ConfigError, match='center_momentum'):
        DINOHead(4, 4, center_momentum=1.)


def _worker(rank, init_file, out):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    head = DINOHead(in_channels=2, out_dim=2, center_momentum=0.5)
    head.update_center(torch.full((2, 2), float(rank * 4)))  # 0s then 4s
    torch.save(head.center, f'{out}.{rank}')
    dist.destroy_process_group()


def test_center_is_all_reduced_over_ranks(tmp_path):
    mp.spawn(_worker, args=(tmp_path / 'init', str(tmp_path / 'c')),
             nprocs=2, join=True)
    centers = [torch.load(tmp_path / f'c.{r}') for r in range(2)]
    assert torch.equal(centers[0], centers[1])
    torch.testing.assert_close(centers[0], torch.full((1, 2), 1.))  # 0.5*2
