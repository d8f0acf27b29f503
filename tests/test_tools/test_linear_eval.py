"""Linear evaluation end to end on a real CIFAR-10 slice, through
tools/benchmarks/linear.sh: the backbone (weights and BatchNorm statistics)
stays exactly the checkpoint's, only the linear head trains."""
import os
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from conftest import REPO, load_tool

LINEAR_R18W05 = ('configs/benchmarks/linear_eval/'
                 'resnet18w05-cifar_1xb256-linear-steplr-100e_cifar10.py')
LINEAR_MBV3 = ('configs/benchmarks/linear_eval/'
               'mobilenet-v3-large_1xb256-linear-bn-lars-coslr-90e_cifar10.py')
R18W05 = dict(type='ResNet_CIFAR', depth=18, stem_channels=32,
              base_channels=32)
MBV3 = dict(type='MobileNetV3', arch='large')

preflight = load_tool('tools/benchmarks/preflight.py')


def student_state(backbone_cfg, seed=0):
    """A backbone's state with random weights AND random BN statistics (so
    that any update of the running mean/var would show)."""
    from mmseed.registry import MODELS
    from mmseed.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(seed)
    state = MODELS.build(backbone_cfg).state_dict()
    for key, value in state.items():
        if key.endswith('running_mean'):
            state[key] = torch.randn_like(value) * 0.1
        elif key.endswith('running_var'):
            state[key] = torch.rand_like(value) + 0.5
        elif key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(1000)
        elif value.is_floating_point():
            state[key] = torch.randn_like(value) * 0.05
    return state


def save_seed_like_checkpoint(path, backbone_cfg):
    """An mmengine checkpoint laid out as an mmseed SEED checkpoint: the
    student as backbone.*, plus a neck, a teacher and a queue that the
    linear evaluation must ignore."""
    student = student_state(backbone_cfg)
    state = {f'backbone.{k}': v for k, v in student.items()}
    state['neck.mlp.0.weight'] = torch.randn(8, 8)
    state['queue.embeddings'] = torch.randn(16, 4)
    state.update({f'teacher.backbone.{k}': torch.zeros_like(v)
                  for k, v in student.items()})
    torch.save({'meta': {'epoch': 200}, 'state_dict': state}, path)
    return state


def run_script(script, config, checkpoint, *args, work_dir, data_root,
               gpus=None, env=None):
    full_env = dict(os.environ, PYTHON=sys.executable, WORK_DIR=str(work_dir),
                    DATA_ROOT=str(data_root), PYTHONWARNINGS='ignore',
                    **(env or {}))
    command = ['bash', script, config, str(checkpoint)]
    command += [str(gpus)] if gpus else []
    return subprocess.run(command + [str(a) for a in args], cwd=REPO,
                          env=full_env, capture_output=True, text=True,
                          timeout=900)


def tiny(batch, epochs=1):
    return ['--cfg-options', f'train_cfg.max_epochs={epochs}',
            f'train_dataloader.batch_size={batch}',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            'val_dataloader.batch_size=80', 'default_hooks.logger.interval=1',
            'randomness.seed=0']


def assert_backbone_untouched(trained, checkpoint_state):
    student = {k: v for k, v in checkpoint_state.items()
               if k.startswith('backbone.')}
    assert {k for k in trained if k.startswith('backbone.')} == set(student)
    changed = [k for k in student if not torch.equal(trained[k], student[k])]
    assert not changed, f'{len(changed)} backbone tensors changed: ' \
        f'{changed[:3]}'
    assert any(k.endswith('running_var') for k in student)


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_resnet_linear_eval_trains_only_the_head(cifar_slice, tmp_path):
    checkpoint = tmp_path / 'seed_epoch_200.pth'
    state = save_seed_like_checkpoint(checkpoint, R18W05)
    work = tmp_path / 'work'
    result = run_script('tools/benchmarks/linear.sh', LINEAR_R18W05,
                        checkpoint, *tiny(batch=16), work_dir=work,
                        data_root=cifar_slice)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert 'backbone tensors fit ResNet_CIFAR' in out  # the preflight
    # 80 images, batch 16: 5 steps of lr 30, then the test split.
    assert 'Epoch(train) [1][5/5]' in out and 'lr: 3.0000e+01' in out
    assert 'accuracy/top1' in out
    assert f'results: {work}' in out and 'final: Epoch(val)' in out
    trained = load(work / 'epoch_1.pth')['state_dict']
    assert_backbone_untouched(trained, state)
    # The head is the only other part, and it trained (its bias starts at 0).
    assert {k for k in trained if not k.startswith('backbone.')} == {
        'head.fc.weight', 'head.fc.bias'}
    assert trained['head.fc.bias'].abs().sum() > 0


def test_mobilenet_linear_eval_keeps_its_batchnorms_frozen(cifar_slice,
                                                           tmp_path):
    """The frozen-BN claim on a non-ResNet: MobileNetV3 (BN momentum 0.01
    would move the running statistics after one step in train mode)."""
    checkpoint = tmp_path / 'mbv3_student.pth'
    state = student_state(MBV3)
    torch.save({'meta': {}, 'state_dict': {f'backbone.{k}': v
                                           for k, v in state.items()}},
               checkpoint)
    work = tmp_path / 'work'
    result = run_script('tools/benchmarks/linear.sh', LINEAR_MBV3, checkpoint,
                        *tiny(batch=80), work_dir=work, data_root=cifar_slice)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert 'Epoch(train) [1][1/1]' in out and 'accuracy/top1' in out
    trained = load(work / 'epoch_1.pth')['state_dict']
    assert_backbone_untouched(trained, {f'backbone.{k}': v
                                        for k, v in state.items()})
    # The non-affine BatchNorm neck learns statistics; the head trains.
    assert trained['neck.1.bn.num_batches_tracked'] == 1
    assert 'neck.1.bn.weight' not in trained
    assert trained['head.fc.bias'].abs().sum() > 0


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_two_processes_go_through_dist_train(cifar_slice, tmp_path):
    checkpoint = tmp_path / 'student.pth'
    state = save_seed_like_checkpoint(checkpoint, R18W05)
    work = tmp_path / 'work'
    result = run_script('tools/benchmarks/linear.sh', LINEAR_R18W05,
                        checkpoint, *tiny(batch=40), gpus=2, work_dir=work,
                        data_root=cifar_slice,
                        env={'PORT': str(_free_port())})
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    assert 'Epoch(train) [1][1/1]' in out and 'accuracy/top1' in out
    assert_backbone_untouched(load(work / 'epoch_1.pth')['state_dict'], state)


def test_exported_student_and_mmpretrain_moco_checkpoints_fit(tmp_path):
    """The three kinds of checkpoint the benchmarks take all pass the
    preflight, which compares names and shapes with the backbone."""
    student = student_state(R18W05)
    extract = load_tool('tools/model_converters/extract_student.py')
    seed = {f'backbone.{k}': v for k, v in student.items()}
    seed['teacher.backbone.conv1.weight'] = torch.zeros(1)
    exported = dict(extract.extract_student({'state_dict': seed}))
    moco = dict(seed)
    moco.update({f'momentum_encoder.module.0.{k}': v
                 for k, v in student.items()})
    for name, state in (('seed', seed), ('exported', exported),
                        ('moco', moco)):
        path = tmp_path / f'{name}.pth'
        torch.save({'meta': {}, 'state_dict': state}, path)
        assert preflight.check_backbone_checkpoint(R18W05, str(path)) == \
            len(student)


@pytest.mark.parametrize('state, message', [
    ({'module.encoder_q.conv1.weight': torch.zeros(1)},
     "has no 'backbone.*' weights (its first keys: "
     'module.encoder_q.conv1.weight)'),
    (None, '1 missing (layer4.1.bn2.running_var)'),
])
def test_checkpoints_that_do_not_fit_are_refused(tmp_path, state, message):
    from mmseed.utils import CheckpointError
    if state is None:
        state = {f'backbone.{k}': v for k, v in student_state(R18W05).items()
                 if k != 'layer4.1.bn2.running_var'}
    path = tmp_path / 'bad.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(CheckpointError) as err:
        preflight.check_backbone_checkpoint(R18W05, str(path))
    assert message in str(err.value)


def test_wrong_architecture_is_a_one_line_error(cifar_slice, tmp_path):
    """A MobileNetV3 student given to the ResNet config stops before
    training (mmengine's Pretrained init would only log a warning)."""
    checkpoint = tmp_path / 'mbv3.pth'
    torch.save({'state_dict': {f'backbone.{k}': v
                               for k, v in student_state(MBV3).items()}},
               checkpoint)
    result = run_script('tools/benchmarks/linear.sh', LINEAR_R18W05,
                        checkpoint, work_dir=tmp_path / 'w',
                        data_root=cifar_slice)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and 'do not fit' in last
    assert 'ResNet_CIFAR' in last
    assert not (tmp_path / 'w').exists()


def test_missing_checkpoint_is_a_one_line_error(cifar_slice, tmp_path):
    result = run_script('tools/benchmarks/linear.sh', LINEAR_R18W05,
                        tmp_path / 'nope.pth', work_dir=tmp_path / 'w',
                        data_root=cifar_slice)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert f'error: checkpoint not found: {tmp_path / "nope.pth"}' in \
        result.stderr


def common(*commands):
    """Run bash with tools/benchmarks/_common.sh sourced."""
    script = 'source tools/benchmarks/_common.sh; ' + '; '.join(commands)
    env = {k: v for k, v in os.environ.items()
           if k not in ('WORK_DIR', 'DATA_ROOT', 'CKPT_KEY')}
    result = subprocess.run(['bash', '-c', script, 'linear.sh'], cwd=REPO,
                            capture_output=True, text=True, env=env)
    return result.stdout.strip().splitlines()


def test_arguments_gpus_and_work_dir():
    assert common('bench_checkpoint_name work_dirs/seed_r18/epoch_200.pth',
                  'bench_checkpoint_name ckpt/student_r18.pth',
                  'bench_checkpoint_name moco_v2_200ep_pretrain.pth.tar') == [
                      'seed_r18_epoch_200', 'student_r18',
                      'moco_v2_200ep_pretrain']
    parsed = ('echo "$BENCH_GPUS|$BENCH_WORK_DIR|${BENCH_EXTRA[*]}|'
              '${BENCH_OPTIONS[*]}"')
    assert common('bench_parse linear configs/x/lin.py run/last.pth', parsed) \
        == ['1|work_dirs/benchmarks/linear/lin/run_last||--work-dir '
            'work_dirs/benchmarks/linear/lin/run_last --cfg-options '
            'model.backbone.init_cfg.checkpoint=run/last.pth']
    assert common('bench_parse semi c.py s.pth 8 --amp --work-dir=/w',
                  parsed) == [
                      '8|/w|--amp --work-dir=/w|--cfg-options '
                      'model.backbone.init_cfg.checkpoint=s.pth']


def test_cifar_normalisation_is_the_pretraining_one():
    linear = Config.fromfile(
        REPO / 'configs/_base_/datasets/cifar10_linear.py')
    pretrain = Config.fromfile(
        REPO / 'configs/_base_/datasets/cifar10_mocov2.py')
    for key in ('mean', 'std', 'to_rgb'):
        assert linear.data_preprocessor[key] == pretrain.data_preprocessor[key]
