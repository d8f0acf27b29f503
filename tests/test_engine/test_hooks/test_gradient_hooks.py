"""DINO's gradient edits before the optimizer step, and the cosine weight
decay."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmseed.engine.hooks import (CosineWeightDecayHook, FreezeParametersHook,
                                 PerParameterGradClipHook)
from mmseed.errors import ConfigError


def setup(weight_decay=0.):
    torch.manual_seed(0)
    model = nn.Sequential()
    model.body = nn.Linear(3, 3)
    model.last_layer = nn.Linear(3, 2)
    groups = [dict(params=[model.body.weight, model.last_layer.weight],
                   weight_decay=weight_decay),
              dict(params=[model.body.bias, model.last_layer.bias],
                   weight_decay=0.)]
    optim = OptimWrapper(torch.optim.AdamW(groups, lr=0.1))
    runner = SimpleNamespace(model=model, optim_wrapper=optim, epoch=0,
                             iter=0, max_iters=10)
    return model, optim, runner


def step(model, optim, scale=100.):
    model(torch.ones(1, 3) * scale).sum().backward()
    optim.step()
    optim.zero_grad()


def test_each_gradient_is_clipped_on_its_own():
    model, optim, runner = setup()
    seen = {}
    PerParameterGradClipHook(max_norm=0.5).before_train(runner)
    optim.optimizer.register_step_pre_hook(
        lambda o, a, k: seen.update({id(p): p.grad.norm().item()
                                     for g in o.param_groups
                                     for p in g['params']}))
    model(torch.ones(1, 3) * 100).sum().backward()
    raw = {id(p): p.grad.norm().item() for p in model.parameters()}
    optim.step()
    for key, norm in raw.items():
        assert seen[key] == pytest.approx(min(norm, 0.5), rel=1e-5)


def test_frozen_parameters_do_not_move_in_the_first_epochs():
    model, optim, runner = setup(weight_decay=0.5)
    FreezeParametersHook(name='last_layer', epochs=1).before_train(runner)
    last = [p.clone() for p in model.last_layer.parameters()]
    body = model.body.weight.clone()
    step(model, optim)
    # No update at all (not even weight decay), and no Adam state.
    for p, before in zip(model.last_layer.parameters(), last):
        assert torch.equal(p, before)
        assert p not in optim.optimizer.state
    assert not torch.equal(model.body.weight, body)
    runner.epoch = 1
    step(model, optim)
    assert not torch.equal(model.last_layer.weight, last[0])


def test_freeze_needs_a_matching_name():
    _, _, runner = setup()
    with pytest.raises(ConfigError, match='matches no trained parameter'):
        FreezeParametersHook(name='nothing').before_train(runner)


def test_weight_decay_cosine_leaves_undecayed_groups_at_zero():
    _, optim, runner = setup(weight_decay=0.04)
    hook = CosineWeightDecayHook(end=0.4)
    hook.before_train(runner)
    found = []
    for it in (0, 5, 10):
        runner.iter = it
        hook.before_train_iter(runner, it)
        found.append([g['weight_decay'] for g in optim.optimizer.param_groups])
    assert found[0] == pytest.approx([0.04, 0.])
    assert found[1] == pytest.approx([0.22, 0.])  # halfway: the mean
    assert found[2] == pytest.approx([0.4, 0.])
