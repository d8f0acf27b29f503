"""MoCoV2 computes what mmpretrain's MoCo computes, key encoder first."""
import pytest
import torch
from mmengine.optim import OptimWrapper

from mmseed.registry import MODELS
from mmseed.utils import register_all_modules
from mmseed.utils.config_check import ConfigError

register_all_modules()


def moco_cfg(kind):
    return dict(
        type=kind,
        queue_len=32,
        feat_dim=16,
        momentum=0.01,
        data_preprocessor=dict(type='SelfSupDataPreprocessor',
                               mean=[128.] * 3, std=[64.] * 3),
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                      base_channels=8),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=64,
                  out_channels=16, with_avg_pool=True),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=0.2))


def batches(count, size=8):
    generator = torch.Generator().manual_seed(0)
    for _ in range(count):
        yield dict(inputs=[
            torch.randint(0, 256, (size, 3, 16, 16), dtype=torch.uint8,
                          generator=generator) for _ in range(2)
        ], data_samples=[None] * size)


def train(kind, steps):
    """Build ``kind`` from one seed, train ``steps`` SGD steps; return the
    losses, the state dict after each step and the RNG state at the end."""
    torch.manual_seed(0)
    model = MODELS.build(moco_cfg(kind))
    model.train()
    params = [*model.backbone.parameters(), *model.neck.parameters()]
    wrapper = OptimWrapper(torch.optim.SGD(params, lr=0.5, momentum=0.9,
                                           weight_decay=1e-4))
    losses, states = [], []
    torch.manual_seed(1)  # the batch shuffle draws from it
    for batch in batches(steps):
        losses.append(model.train_step(batch, wrapper)['loss'])
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    return losses, states, torch.get_rng_state()


def test_same_losses_weights_and_queue_as_mmpretrain_moco():
    steps = 3
    ours, our_states, our_rng = train('MoCoV2', steps)
    theirs, their_states, their_rng = train('MoCo', steps)
    assert torch.equal(torch.stack(ours), torch.stack(theirs))
    assert torch.equal(our_rng, their_rng)  # the same random draws
    assert our_states[0].keys() == their_states[0].keys()
    key_bn_stats = ('running_mean', 'running_var', 'num_batches_tracked')
    for step in range(steps):
        for key, value in their_states[step].items():
            if key.startswith('encoder_k.module.') and key.endswith(
                    key_bn_stats):
                continue  # never used by MoCo; see the class docstring
            assert torch.equal(our_states[step][key], value), (step, key)
    # Training moved the weights, the key encoder and the queue.
    first, last = our_states[0], our_states[-1]
    for key in ('backbone.conv1.weight', 'encoder_k.module.0.conv1.weight',
                'queue'):
        assert not torch.equal(first[key], last[key]), key
    assert int(last['queue_ptr']) == (steps * 8) % 32
    assert int(last['encoder_k.steps']) == steps


def test_momentum_update_is_the_ema():
    """key <- key + m (query - key) on weights; buffers copied."""
    torch.manual_seed(0)
    model = MODELS.build(moco_cfg('MoCoV2'))
    model._momentum_update()  # the first call copies the query encoder
    key = model.encoder_k.module
    with torch.no_grad():
        for p in [*model.backbone.parameters(), *model.neck.parameters()]:
            p.add_(torch.randn_like(p))
        model.backbone.bn1.running_mean.fill_(3.)
    before = [p.clone() for p in key.parameters()]
    model._momentum_update()
    query = [*model.backbone.parameters(), *model.neck.parameters()]
    for old, new, q in zip(before, key.parameters(), query):
        torch.testing.assert_close(new, old + 0.01 * (q - old))
    assert torch.equal(key[0].bn1.running_mean, torch.full((8, ), 3.))


@pytest.mark.parametrize('views', [1, 3])
def test_wrong_number_of_views_is_a_clear_error(views):
    model = MODELS.build(moco_cfg('MoCoV2'))
    inputs = [torch.zeros(2, 3, 16, 16)] * views
    with pytest.raises(ConfigError, match=f'MoCo expects 2 views per image '
                       f'from the pipeline, got {views}: use MultiView'):
        model.loss(inputs, [None, None])
