"""NonFiniteLossHook stops, or skips without a trace, a step with a NaN loss.

Each test injects a NaN input at iteration 3 (batch size 2, no shuffling:
sample 4 is in the third batch) into a real mmengine Runner.
"""
import copy
import socket
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.hooks import Hook
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from torch import nn
from torch.utils.data import Dataset

from mmseed.engine.hooks import (NonFiniteLossError, NonFiniteLossHook,
                                 volatile_state)
from mmseed.registry import HOOKS, MODELS
from mmseed.utils import register_all_modules

register_all_modules()

BAD_INDEX = 4  # in the third batch of 2


class Tiny(BaseModel):
    """BatchNorm (state a NaN input poisons), a linear layer, two losses."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.bn = nn.BatchNorm1d(4)
        self.linear = nn.Linear(4, 2)

    def forward(self, inputs, data_samples=None, mode='loss'):
        out = self.linear(self.bn(inputs))
        return dict(loss_a=out.pow(2).mean(), loss_b=out.abs().mean())


class Vectors(Dataset):
    """Samples ``dict(inputs=vector)``; ``nan_at`` holds NaN."""

    def __init__(self, n=10, nan_at=(BAD_INDEX, ), drop=()):
        gen = torch.Generator().manual_seed(1)
        data = torch.randn(n, 4, generator=gen)
        for i in nan_at:
            data[i, 0] = float('nan')
        keep = [i for i in range(n) if i not in drop]
        self.data = data[keep]

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return dict(inputs=self.data[index])


class Views(Dataset):
    """Two 3x16x16 float views per image for MoCo/SEED; ``nan_at`` has NaN."""

    def __init__(self, n=10, nan_at=(BAD_INDEX, )):
        gen = torch.Generator().manual_seed(2)
        self.images = torch.rand(n, 2, 3, 16, 16, generator=gen) * 255
        for i in nan_at:
            self.images[i, 0, 0, 0, 0] = float('nan')

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return dict(inputs=list(self.images[index]), data_samples=DataSample())


@HOOKS.register_module(force=True)
class RecordHook(Hook):
    """Keeps the model state, optimizer state and losses after each step."""

    priority = 'LOWEST'

    def __init__(self):
        self.states, self.optim_states, self.losses = [], [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model
        self.states.append(copy.deepcopy(model.state_dict()))
        self.optim_states.append(
            copy.deepcopy(runner.optim_wrapper.state_dict()))
        self.losses.append({k: float(v) for k, v in outputs.items()})


def run(tmp_path, model, dataset, mode, iters=5, optim_wrapper=None):
    """Train ``iters`` steps with the hook in ``mode`` (or with these
    arguments); returns the runner, hook, recorder, log and error."""
    recorder = RecordHook()
    hook = NonFiniteLossHook(**(mode if isinstance(mode, dict) else
                                dict(mode=mode)))
    name = f'nf-{uuid.uuid4().hex[:8]}'
    runner = Runner(
        model=model,
        work_dir=str(tmp_path / name),
        experiment_name=name,
        train_dataloader=dict(
            dataset=dataset, batch_size=2, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=optim_wrapper or dict(
            optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                           weight_decay=1e-2)),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=None),
        custom_hooks=[hook, recorder],
        default_scope='mmseed')
    error = None
    try:
        runner.train()
    except NonFiniteLossError as err:
        error = err
    log = next(Path(runner.log_dir).glob('*.log')).read_text()
    return SimpleNamespace(runner=runner, hook=hook, rec=recorder, log=log,
                           error=error)


def assert_same(a, b):
    """Nested dicts/lists of tensors are bit-identical."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b) or (a.isnan().any() and torch.equal(
            a.nan_to_num(), b.nan_to_num()))
    else:
        assert a == b


def test_stop_names_iteration_terms_and_lr(tmp_path):
    result = run(tmp_path, Tiny(), Vectors(), 'stop')
    message = str(result.error)
    assert message.startswith('non-finite loss at iteration 3: ')
    for fact in ('loss=nan', 'loss_a=nan', 'loss_b=nan', 'lr=0.1'):
        assert fact in message
    assert "mode='skip'" in message
    # Two steps ran; the third stopped before any update.
    assert len(result.rec.states) == 2
    params = dict(result.runner.model.named_parameters())
    for key, value in params.items():
        assert torch.equal(value, result.rec.states[-1][key]), key
    assert_same(result.runner.optim_wrapper.state_dict(),
                result.rec.optim_states[-1])


def test_skip_leaves_no_trace_and_training_continues(tmp_path):
    result = run(tmp_path, Tiny(), Vectors(), 'skip')
    assert result.error is None and len(result.rec.states) == 5
    rec = result.rec
    # Over the bad step: weights, BN statistics, momentum buffers identical.
    assert_same(rec.states[2], rec.states[1])
    assert_same(rec.optim_states[2], rec.optim_states[1])
    assert all(torch.isfinite(v).all() for v in rec.states[2].values())
    # Training went on: finite losses and moving weights afterwards.
    assert [torch.isfinite(torch.tensor(x['loss'])).item()
            for x in rec.losses] == [True, True, False, True, True]
    assert not torch.equal(rec.states[4]['linear.weight'],
                           rec.states[2]['linear.weight'])
    assert result.hook.num_skipped == 1
    warnings = [line for line in result.log.splitlines()
                if 'skipped the step at' in line]
    assert len(warnings) == 1
    assert 'iteration 3: loss=nan, loss_a=nan, loss_b=nan; lr=0.1' in \
        warnings[0]
    assert '1 step(s) skipped so far' in warnings[0]
    # As if the bad batch had not been there: the same final weights as
    # training on the other four batches.
    clean = run(tmp_path, Tiny(), Vectors(nan_at=(), drop=(4, 5)), 'skip',
                iters=4)
    assert clean.hook.num_skipped == 0
    assert_same(clean.rec.states[-1], rec.states[-1])
    assert_same(clean.rec.optim_states[-1], rec.optim_states[-1])


def test_skip_stops_when_the_loss_stays_non_finite(tmp_path):
    # Iterations 3, 4 and 5 are bad; the second skip in a row stops.
    result = run(tmp_path, Tiny(), Vectors(nan_at=range(4, 10)),
                 dict(mode='skip', max_consecutive_skips=2))
    assert result.hook.num_skipped == 2 and len(result.rec.states) == 3
    message = str(result.error)
    assert message.startswith('non-finite loss at iteration 4: loss=nan')
    assert '2 steps in a row had one (max_consecutive_skips=2)' in message


def teacher_checkpoint(path, backbone, neck):
    teacher = MODELS.build(
        dict(type='FrozenTeacher', backbone=backbone, neck=neck))
    torch.save({'state_dict': teacher.state_dict(),
                'meta': {'mmseed_format': 'teacher'}}, path)
    return str(path)


def algorithm(name, tmp_path):
    """A tiny mmpretrain MoCo or mmseed SEED on 16-px images."""
    torch.manual_seed(0)
    backbone = dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                    base_channels=8)
    neck = dict(type='MoCoV2Neck', in_channels=64, hid_channels=32,
                out_channels=16, with_avg_pool=True)
    preprocessor = dict(type='SelfSupDataPreprocessor', mean=[128.] * 3,
                        std=[64.] * 3)
    if name == 'MoCo':
        cfg = dict(type='MoCo', queue_len=32, feat_dim=16, momentum=0.01,
                   backbone=backbone, neck=neck,
                   head=dict(type='ContrastiveHead',
                             loss=dict(type='CrossEntropyLoss'),
                             temperature=0.2),
                   data_preprocessor=preprocessor)
    else:
        ckpt = teacher_checkpoint(tmp_path / 'teacher.pth', backbone, neck)
        cfg = dict(type='SEED', queue_len=32, feat_dim=16,
                   backbone=backbone, neck=neck,
                   teacher=dict(type='FrozenTeacher', backbone=backbone,
                                neck=neck, checkpoint=ckpt),
                   loss=dict(type='SEEDLoss', teacher_temp=0.05),
                   data_preprocessor=preprocessor)
    return MODELS.build(cfg)


@pytest.mark.parametrize('name', ['MoCo', 'SEED'])
def test_skip_restores_queues_and_momentum_encoder(name, tmp_path):
    dataset = Views()
    if name == 'SEED':  # SEED sees one view
        dataset.images = dataset.images[:, :1]
    result = run(tmp_path, algorithm(name, tmp_path), dataset, 'skip',
                 iters=4)
    rec = result.rec
    assert result.hook.num_skipped == 1
    # Everything (queue, its pointer, BN statistics, MoCo's momentum
    # encoder) is as before the bad step, so the next loss is finite.
    assert_same(rec.states[2], rec.states[1])
    assert_same(rec.optim_states[2], rec.optim_states[1])
    assert all(torch.isfinite(v.float()).all() for v in rec.states[2].values())
    loss = 'loss' if name == 'MoCo' else 'loss_seed'
    assert [torch.isfinite(torch.tensor(x[loss])).item()
            for x in rec.losses] == [True, True, False, True]
    assert not torch.equal(rec.states[3]['backbone.conv1.weight'],
                           rec.states[2]['backbone.conv1.weight'])


def test_amp_optim_wrapper_skip_keeps_loss_scale(tmp_path, monkeypatch):
    """AmpOptimWrapper (bf16 autocast on CPU, with a CPU GradScaler)."""
    monkeypatch.setattr(
        'mmengine.optim.optimizer.amp_optimizer_wrapper.is_cuda_available',
        lambda: True)
    model = Tiny()
    wrapper = AmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        dtype='bfloat16')
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=2.**8,
                                               growth_interval=1)
    result = run(tmp_path, model, Vectors(), 'skip', optim_wrapper=wrapper)
    rec = result.rec
    assert result.hook.num_skipped == 1
    scales = [s['loss_scaler']['scale'] for s in rec.optim_states]
    # The scale grows after every real step (growth_interval=1), not over
    # the skipped one.
    assert scales == [512., 1024., 1024., 2048., 4096.]
    assert_same(rec.states[2], rec.states[1])
    assert_same(rec.optim_states[2], rec.optim_states[1])
    assert not torch.equal(rec.states[3]['linear.weight'],
                           rec.states[2]['linear.weight'])


def test_volatile_state_is_what_a_step_changes_besides_the_optimizer():
    net = nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 3), nn.Linear(3, 3))
    net[2].requires_grad_(False)  # frozen, e.g. a momentum encoder
    net.train()
    assert {id(t) for t in volatile_state(net)} == {
        id(net[0].running_mean), id(net[0].running_var),
        id(net[0].num_batches_tracked), id(net[2].weight), id(net[2].bias)}
    net[2].eval()  # a module in eval mode (a frozen teacher) never changes
    net[0].eval()
    assert volatile_state(net) == []


@pytest.mark.parametrize('kwargs', [
    dict(mode='ignore'), dict(max_consecutive_skips=0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        NonFiniteLossHook(**kwargs)


def _ddp_worker(rank, port, out_dir):
    torch_dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
        world_size=2, timeout=timedelta(seconds=60))
    model = MMDistributedDataParallel(module=Tiny(), device_ids=None)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    runner = SimpleNamespace(model=model, optim_wrapper=wrapper, iter=0)
    hook = NonFiniteLossHook(mode='skip')
    hook.before_train(runner)
    gen = torch.Generator().manual_seed(rank)
    states = []
    for step in range(3):
        runner.iter = step
        inputs = torch.randn(2, 4, generator=gen)
        if rank == 1 and step == 1:  # NaN on one rank only
            inputs[0, 0] = float('nan')
        hook.before_train_iter(runner, step, None)
        model.train_step(dict(inputs=inputs), wrapper)
        states.append(copy.deepcopy(model.module.state_dict()))
    torch.save(dict(states=states, skipped=hook.num_skipped),
               Path(out_dir) / f'rank{rank}.pth')
    torch_dist.destroy_process_group()


def test_ddp_all_ranks_skip_together(tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.start_processes(_ddp_worker, args=(port, str(tmp_path)), nprocs=2,
                       start_method='spawn')
    ranks = [torch.load(tmp_path / f'rank{r}.pth') for r in range(2)]
    assert [r['skipped'] for r in ranks] == [1, 1]
    for r in ranks:
        assert_same(r['states'][1], r['states'][0])  # skipped on both
        assert not torch.equal(r['states'][2]['linear.weight'],
                               r['states'][1]['linear.weight'])
    # The ranks stayed in sync.
    assert_same(ranks[0]['states'][2]['linear.weight'],
                ranks[1]['states'][2]['linear.weight'])
