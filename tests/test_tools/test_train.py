"""tools/train.py end to end on a real CIFAR-10 slice (CPU)."""
import os
import socket
import subprocess
import sys

import pytest
import torch

from conftest import REPO, run_tool

MOCO_CIFAR = 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py'


def small_run(data_root, epochs=2, batch=16):
    """--cfg-options for a few-iteration, deterministic CPU run."""
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        # kNN validation's data (it runs only from epoch 10 on).
        f'val_dataloader.dataset.data_root={data_root}',
        f'train_dataloader.batch_size={batch}', 'train_dataloader.num_workers=0',
        f'train_cfg.max_epochs={epochs}', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'model.queue_len=64',
        'randomness.seed=0', 'randomness.deterministic=True'
    ]


# An 8-channel ResNet-18 (64-d features) with a 16-d MoCo head: the runs
# whose point is the tool's behaviour, not the network's width.
NARROW = ['model.backbone.stem_channels=8', 'model.backbone.base_channels=8',
          'model.neck.in_channels=64', 'model.neck.hid_channels=32',
          'model.neck.out_channels=16', 'model.feat_dim=16']


def load_state(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'{len(different)} tensors differ, e.g. {different[:3]}'


def test_same_seed_is_bit_identical_and_resume_is_exact(cifar_slice,
                                                       tmp_path):
    """Fresh CPU runs with one seed (deterministic mode) are identical and
    another seed gives other weights; 2 epochs == 1 epoch + --resume auto +
    1 epoch, bit for bit."""
    straight, split = tmp_path / 'straight', tmp_path / 'split'
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', straight,
                      *small_run(cifar_slice, epochs=2), *NARROW)
    assert result.returncode == 0, result.stderr[-3000:]
    # Checkpoints, the pointer to the newest, the loss in the log.
    assert (straight / 'epoch_1.pth').is_file()
    assert (straight / 'last_checkpoint').read_text().strip().endswith(
        'epoch_2.pth')
    assert 'loss:' in result.stdout + result.stderr
    if not torch.cuda.is_available():  # mmseed.utils.cpu_memory
        assert 'malloc keeps freed memory' in result.stdout + result.stderr
    state = load_state(straight / 'epoch_2.pth')
    assert any(k.startswith('backbone.') for k in state)
    assert state['queue'].shape == (16, 64)
    for work, seed in ((split, 0), (tmp_path / 'other_seed', 1)):
        result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', work,
                          *small_run(cifar_slice, epochs=1), *NARROW,
                          f'randomness.seed={seed}')
        assert result.returncode == 0, result.stderr[-3000:]
    first = load_state(split / 'epoch_1.pth')
    # Two fresh runs of seed 0 (the schedule does not depend on max_epochs).
    assert_same_weights(first, load_state(straight / 'epoch_1.pth'))
    other = load_state(tmp_path / 'other_seed' / 'epoch_1.pth')
    assert not torch.equal(first['backbone.conv1.weight'],
                           other['backbone.conv1.weight'])
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', split,
                      '--resume', *small_run(cifar_slice, epochs=2), *NARROW)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Auto resumed from the latest checkpoint' in result.stdout + result.stderr
    final = load_state(split / 'epoch_2.pth')
    assert_same_weights(final, load_state(straight / 'epoch_2.pth'))
    # The second half did train: the weights moved after the resume.
    assert not torch.equal(final['backbone.conv1.weight'],
                           first['backbone.conv1.weight'])


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_two_process_ddp_via_dist_train(cifar_slice, tmp_path):
    work = tmp_path / 'ddp'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               PYTHONWARNINGS='ignore')
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', MOCO_CIFAR, '2', '--work-dir',
         str(work), *small_run(cifar_slice, epochs=1, batch=8)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    # 80 images, 2 ranks x 8 per batch: 5 iterations per epoch.
    assert 'Epoch(train) [1][5/5]' in out
    assert (work / 'epoch_1.pth').is_file()


def test_mmselfsup_scope_config_trains(cifar_slice, tmp_path):
    result = run_tool(
        'tools/train.py', 'tests/data/configs/mmselfsup_mocov2_cifar.py',
        '--work-dir', tmp_path / 'w', '--cfg-options',
        f'train_dataloader.dataset.data_root={cifar_slice}')
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / 'w' / 'iter_2.pth').is_file()


@pytest.mark.parametrize('options, expected', [
    (['train_dataloader.dataset.data_root=/nonexistent/cifar10'],
     "data folder '/nonexistent/cifar10/train' not found"),
    (['train_dataloder.batch_size=8'],
     "unknown config key 'train_dataloder': did you mean 'train_dataloader'"),
    (['model.neck.hid_chanels=64'],
     "unknown config key 'hid_chanels' for MoCoV2Neck; did you mean "
     "'hid_channels'"),
])
def test_bad_config_is_a_one_line_error(options, expected, cifar_slice,
                                        tmp_path):
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', tmp_path,
                      '--cfg-options',
                      f'train_dataloader.dataset.data_root={cifar_slice}',
                      *options)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith('error: ')
    assert expected in result.stderr


def test_unreadable_checkpoint_is_a_one_line_error(cifar_slice, tmp_path):
    broken = tmp_path / 'broken.pth'
    broken.write_bytes(b'PK\x03\x04 truncated')
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir',
                      tmp_path / 'w', '--resume', broken,
                      *small_run(cifar_slice, epochs=1))
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert f'error: cannot read checkpoint {broken}' in result.stderr
    assert 'truncated' in result.stderr


def test_missing_config_file(tmp_path):
    result = run_tool('tools/train.py', 'configs/nope.py')
    assert result.returncode == 2
    assert 'error: config file not found: configs/nope.py' in result.stderr


def test_non_finite_loss_is_a_one_line_error(cifar_slice, tmp_path):
    """A contrastive temperature of 0 makes the first loss non-finite."""
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', tmp_path,
                      *small_run(cifar_slice, epochs=1),
                      'model.head.temperature=0')
    assert result.returncode == 2, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: non-finite loss at iteration 1')
    assert 'lr' in last and not (tmp_path / 'epoch_1.pth').exists()
