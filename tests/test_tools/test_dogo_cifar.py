"""DoGo and its SimCLR baseline on real CIFAR-10 images with tools/train.py:
training, exact resume of both peers and optimizers, export of each peer."""
import os
import socket
import subprocess
import sys

import torch

from conftest import REPO, run_tool
from mmseed.registry import MODELS
from mmseed.utils import register_all_modules

DOGO = 'configs/dogo/dogo_r18-cifar_r18w05-cifar_1xb256-200e_cifar10.py'
SIMCLR = 'configs/simclr/simclr_r18w05-cifar_1xb256-200e_cifar10.py'
EXPORT = 'tools/model_converters/extract_student.py'


def tiny_peer(name):
    """Narrow backbones (8 base channels, 64-wide) keep the runs fast."""
    return [f'model.{name}.backbone.stem_channels=8',
            f'model.{name}.backbone.base_channels=8',
            f'model.{name}.neck.in_channels=64']


def options(data_root, epochs=1, batch=16, peers=('peer1', 'peer2')):
    return ['--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}',
            f'train_dataloader.batch_size={batch}',
            'train_dataloader.num_workers=0', f'train_cfg.max_epochs={epochs}',
            'default_hooks.checkpoint.interval=1',
            'default_hooks.logger.interval=1', 'randomness.seed=0',
            'randomness.deterministic=True',
            *[o for p in peers for o in tiny_peer(p)]]


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_dogo_trains_resumes_exactly_and_exports_each_peer(cifar_slice,
                                                           tmp_path):
    straight, split = tmp_path / 'straight', tmp_path / 'split'
    result = run_tool('tools/train.py', DOGO, '--work-dir', straight,
                      *options(cifar_slice, epochs=2))
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    for key in ('loss_peer1:', 'loss_peer2:', 'peer1_kl:', 'peer2_simclr:'):
        assert key in log, key
    result = run_tool('tools/train.py', DOGO, '--work-dir', split,
                      *options(cifar_slice, epochs=1))
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_tool('tools/train.py', DOGO, '--work-dir', split,
                      '--resume', *options(cifar_slice, epochs=2))
    assert result.returncode == 0, result.stderr[-3000:]
    a, b = load(straight / 'epoch_2.pth'), load(split / 'epoch_2.pth')
    assert a['state_dict'].keys() == b['state_dict'].keys()
    assert all(torch.equal(v, b['state_dict'][k])
               for k, v in a['state_dict'].items())
    # Both optimizers are saved and restored.
    assert set(a['optimizer']) == {'peer1', 'peer2'}
    for name in ('peer1', 'peer2'):
        for x, y in zip(a['optimizer'][name]['state'].values(),
                        b['optimizer'][name]['state'].values()):
            assert all(torch.equal(x[k], y[k]) for k in x)

    register_all_modules()
    for name, width in (('peer1', 'ResNet_CIFAR'), ('peer2', 'ResNet_CIFAR')):
        out = tmp_path / f'{name}.pth'
        result = run_tool(EXPORT, straight / 'epoch_2.pth', out, '--module',
                          name)
        assert result.returncode == 0, result.stderr
        exported = load(out)['state_dict']
        own = {k[len(name) + 1:]: v for k, v in a['state_dict'].items()
               if k.startswith(f'{name}.backbone.')}
        assert exported.keys() == own.keys()
        classifier = MODELS.build(dict(
            type='ImageClassifier',
            backbone=dict(type=width, depth=18, stem_channels=8,
                          base_channels=8),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=64)))
        missing, unexpected = classifier.load_state_dict(exported,
                                                         strict=False)
        assert not unexpected and all(k.startswith('head.') for k in missing)
        assert torch.equal(classifier.state_dict()['backbone.conv1.weight'],
                           own['backbone.conv1.weight'])
    result = run_tool(EXPORT, straight / 'epoch_2.pth', tmp_path / 'x.pth')
    assert result.returncode == 2
    assert 'its backbones are under --module peer1 / peer2' in result.stderr


def test_simclr_baseline_trains(cifar_slice, tmp_path):
    opts = options(cifar_slice, peers=())
    opts += ['model.backbone.stem_channels=8', 'model.backbone.base_channels=8',
             'model.neck.in_channels=64']
    result = run_tool('tools/train.py', SIMCLR, '--work-dir', tmp_path / 'w',
                      *opts)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'loss:' in result.stdout + result.stderr
    assert (tmp_path / 'w' / 'epoch_1.pth').is_file()


def test_dogo_without_an_optimizer_for_a_peer_is_one_line(cifar_slice,
                                                          tmp_path):
    result = run_tool('tools/train.py', DOGO, '--work-dir', tmp_path / 'w',
                      *options(cifar_slice), 'optim_wrapper.peer2=None')
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        'error: no optimizer trains')


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_dogo_on_two_processes(cifar_slice, tmp_path):
    """torchrun with 2 gloo processes: each peer DDP-wrapped on its own,
    NT-Xent over both ranks' batches."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               PYTHONWARNINGS='ignore')
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', DOGO, '2', '--work-dir',
         str(tmp_path / 'ddp'), *options(cifar_slice, batch=8)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert 'Epoch(train) [1][5/5]' in out and 'loss_peer2:' in out
    state = load(tmp_path / 'ddp' / 'epoch_1.pth')['state_dict']
    assert any(k.startswith('peer1.backbone.') for k in state)
