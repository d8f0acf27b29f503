"""DoGo trains two peers, each by its own loss and optimizer."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmseed.errors import ConfigError
from mmseed.models.losses import nt_xent, similarity_kl, simsiam_loss
from mmseed.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmseed.utils import register_all_modules

register_all_modules()

TINY = dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8)
HEAD = dict(type='NonLinearNeck', in_channels=64, hid_channels=32,
            out_channels=16, num_layers=2, with_bias=False,
            with_last_bias=True, with_last_bn=False, with_avg_pool=True,
            norm_cfg=dict(type='BN1d'))
SIMSIAM = dict(
    objective='simsiam',
    neck=dict(HEAD, hid_channels=32, out_channels=32, with_last_bn=True),
    predictor=dict(HEAD, in_channels=32, hid_channels=8, out_channels=32,
                   with_avg_pool=False))


def dogo_cfg(peer2=None, **kwargs):
    return dict(
        type='DoGo',
        data_preprocessor=dict(type='SelfSupDataPreprocessor',
                               mean=[128.] * 3, std=[64.] * 3),
        peer1=dict(backbone=TINY, neck=HEAD, mutual_weight=100.),
        peer2=dict(dict(backbone=TINY, neck=HEAD), **(peer2 or {})),
        **kwargs)


def batch(n=6, views=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=[torch.randint(0, 256, (n, 3, 16, 16),
                                      dtype=torch.uint8, generator=gen)
                        for _ in range(views)],
                data_samples=[None] * n)


def wrappers(model, lr=0.1):
    return OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.SGD(getattr(model, name).parameters(),
                                           lr=lr))
        for name in ('peer1', 'peer2')})


def test_losses_are_the_official_combination():
    torch.manual_seed(0)
    model = MODELS.build(dogo_cfg())
    model.train()
    data = model.data_preprocessor(batch(), True)
    torch.manual_seed(1)
    losses = model.loss(data['inputs'])
    # The same forward by hand: each peer's own views.
    torch.manual_seed(1)
    views = data['inputs']
    out1 = [model.peer1.embed(v) for v in views[:2]]
    out2 = [model.peer2.embed(v) for v in views[2:]]
    z1 = [o[0] for o in out1]
    z2 = [o[0] for o in out2]
    ssl1, ssl2 = nt_xent(*z1, 0.5), nt_xent(*z2, 0.5)
    kl1 = similarity_kl(*z1, *z2, 0.1)
    kl2 = similarity_kl(*z2, *z1, 0.1)
    torch.testing.assert_close(losses['loss_peer1'], ssl1 + 100 * kl1)
    torch.testing.assert_close(losses['loss_peer2'], ssl2 + kl2)
    torch.testing.assert_close(losses['peer1_kl'], kl1.detach())


def test_each_loss_reaches_only_its_peer():
    model = MODELS.build(dogo_cfg())
    model.train()
    losses = model.loss(model.data_preprocessor(batch(), True)['inputs'])
    losses['loss_peer1'].backward()
    assert all(p.grad is not None for p in model.peer1.parameters())
    assert all(p.grad is None for p in model.peer2.parameters())


def test_one_step_moves_both_peers_each_by_its_optimizer():
    torch.manual_seed(0)
    model = MODELS.build(dogo_cfg())
    model.train()
    before = copy.deepcopy(model.state_dict())
    optim = wrappers(model)
    log = model.train_step(batch(), optim)
    assert {'loss', 'loss_peer1', 'loss_peer2', 'peer1_simclr',
            'peer2_kl'} <= set(log)
    for name in ('peer1', 'peer2'):
        changed = [k for k, v in model.state_dict().items()
                   if k.startswith(name) and not torch.equal(v, before[k])]
        assert any(k.endswith('conv1.weight') for k in changed), name
    # Each optimizer holds only its peer's parameters.
    for name in ('peer1', 'peer2'):
        own = {id(p) for p in getattr(model, name).parameters()}
        held = {id(p) for group in optim[name].optimizer.param_groups
                for p in group['params']}
        assert held == own


def test_simclr_with_simsiam_uses_the_predictions_in_the_kl():
    torch.manual_seed(0)
    model = MODELS.build(dogo_cfg(peer2=SIMSIAM))
    model.train()
    views = model.data_preprocessor(batch(), True)['inputs']
    torch.manual_seed(3)
    losses = model.loss(views)
    torch.manual_seed(3)
    out1 = [model.peer1.embed(v) for v in views[:2]]
    out2 = [model.peer2.embed(v) for v in views[2:]]
    (z21, p21), (z22, p22) = out2
    torch.testing.assert_close(losses['peer2_simsiam'],
                               simsiam_loss(p21, p22, z21, z22).detach())
    kl2 = similarity_kl(p21, p22, out1[0][0], out1[1][0], 0.1)
    torch.testing.assert_close(losses['peer2_kl'], kl2.detach())
    model.train_step(batch(), wrappers(model))


def test_two_simsiam_peers_target_the_others_projections():
    torch.manual_seed(0)
    cfg = dogo_cfg(peer2=SIMSIAM)
    cfg['peer1'] = dict(backbone=TINY, **SIMSIAM)
    model = MODELS.build(cfg)
    model.train()
    views = model.data_preprocessor(batch(), True)['inputs']
    torch.manual_seed(3)
    losses = model.loss(views)
    torch.manual_seed(3)
    (z11, p11), (z12, p12) = [model.peer1.embed(v) for v in views[:2]]
    (z21, p21), (z22, p22) = [model.peer2.embed(v) for v in views[2:]]
    torch.testing.assert_close(
        losses['peer1_kl'], similarity_kl(p11, p12, z21, z22, 0.1).detach())
    torch.testing.assert_close(
        losses['peer2_kl'], similarity_kl(p21, p22, z11, z12, 0.1).detach())


def test_extract_feat_is_the_eval_peers_backbone():
    model = MODELS.build(dogo_cfg(eval_peer='peer1')).eval()
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(model.extract_feat(x)[-1],
                       model.peer1.backbone(x)[-1])


@pytest.mark.parametrize('change, match', [
    (dict(peer2=dict(backbone=TINY)), r'model.peer2 needs a backbone and '
     'a projection head: set model.peer2.neck'),
    (dict(peer2=dict(backbone=TINY, neck=HEAD, objective='simsiam')),
     r'model.peer2.predictor: a simsiam peer needs a predictor'),
    (dict(peer2=dict(backbone=TINY, neck=HEAD, objective='byol')),
     r'model.peer2.objective must be one of simclr, simsiam'),
    (dict(eval_peer='peer3'), 'model.eval_peer must be peer1 or peer2'),
])
def test_bad_configs_are_one_line_errors(change, match):
    cfg = dogo_cfg()
    cfg.update(change)
    with pytest.raises(ConfigError, match=match):
        MODELS.build(cfg)


def test_missing_optimizer_and_wrong_views_are_one_line_errors():
    model = MODELS.build(dogo_cfg())
    model.train()
    only_one = OptimWrapperDict(peer1=OptimWrapper(
        torch.optim.SGD(model.peer1.parameters(), lr=0.1)))
    with pytest.raises(ConfigError, match='optim_wrapper has none for '
                       'peer2'):
        model.train_step(batch(), only_one)
    with pytest.raises(ConfigError, match='states 4 views per image'):
        model.train_step(batch(views=2), wrappers(model))
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='MultiOptimWrapperConstructor', optim_wrapper_cfg=dict(
            peer1=dict(optimizer=dict(type='SGD', lr=0.1)))))
    with pytest.raises(ConfigError, match=r'no optimizer trains .* add '
                       r'optim_wrapper.peer2 = dict\(optimizer=...\)'):
        constructor(model)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='MultiOptimWrapperConstructor', optim_wrapper_cfg=dict(
            peer3=dict(optimizer=dict(type='SGD', lr=0.1)))))
    with pytest.raises(ConfigError, match="optim_wrapper.peer3: the model "
                       "has no sub-module 'peer3'"):
        constructor(model)
