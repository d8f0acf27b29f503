"""SimCLRv2's three steps with tools/train.py on real CIFAR-10 images:
pretraining, fine-tuning from the head's first layer, distillation; and the
pipeline's commands."""
import torch

from conftest import load_tool, run_tool

PRETRAIN = 'configs/simclrv2/simclrv2_r18-cifar_1xb512-1000e_cifar10.py'
FINETUNE = ('configs/simclrv2/'
            'simclrv2-ft_r18-cifar_1xb256-lars-30e_cifar10-10pct.py')
DISTILL = ('configs/simclrv2/'
           'simclrv2-distill_r18-cifar_to_r18w05-cifar_1xb512-400e_cifar10.py')
# Narrow ResNet-18s (64-d features) keep the runs fast.
NARROW = ['backbone.stem_channels=8', 'backbone.base_channels=8']


def narrow(prefix, head=True):
    keys = NARROW + ['neck.in_channels=64'] + (
        ['head.in_channels=64'] if head else [])
    return [f'{prefix}{k}' for k in keys]


def common(data, epochs):
    return [f'train_dataloader.dataset.data_root={data}',
            f'val_dataloader.dataset.data_root={data}',
            f'test_dataloader.dataset.data_root={data}',
            'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
            'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0',
            f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
            'default_hooks.logger.interval=1', 'randomness.seed=0']


def refused(config, work, *options):
    """The run stops with one error line; returns it."""
    result = run_tool('tools/train.py', config, '--work-dir', work,
                      '--cfg-options', *options)
    assert result.returncode == 2, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def train(config, work, *options):
    result = run_tool('tools/train.py', config, '--work-dir', work,
                      '--cfg-options', *options)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def state(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def test_three_steps_on_real_images(cifar_slice, tmp_path):
    subsets = load_tool('tools/dataset_converters/make_label_subset.py')
    subset, _ = subsets.make_subset_file(cifar_slice / 'train', per_class=2,
                                         out=tmp_path / 'labelled.txt')
    # 1. Pretraining (80 images, 5 steps).
    log = train(PRETRAIN, tmp_path / 'pre', *common(cifar_slice, 1),
                'train_cfg.val_begin=2', *narrow('model.', head=False))
    assert 'loss:' in log
    pretrained = tmp_path / 'pre' / 'epoch_1.pth'
    pre = state(pretrained)
    assert 'neck.layers.2.fc.weight' in pre
    # 2. Fine-tuning on 20 labelled images from the head's first layer.
    log = train(FINETUNE, tmp_path / 'ft', *common(cifar_slice, 2),
                f'train_dataloader.dataset.ann_file={subset}',
                f'model.init_cfg.checkpoint={pretrained}', *narrow('model.'))
    assert 'accuracy/top1' in log
    ft = state(tmp_path / 'ft' / 'epoch_2.pth')
    assert {k for k in ft if k.startswith('neck.')} == {
        k for k in pre if k.startswith('neck.layers.0.')}
    assert not torch.equal(ft['head.fc.weight'],
                           torch.zeros_like(ft['head.fc.weight']))
    # (A checkpoint without the head is refused: test_simclrv2_neck.py.)
    # 3. Distillation of the fine-tuned network on all 80 images.
    teacher = tmp_path / 'ft' / 'epoch_2.pth'
    log = train(DISTILL, tmp_path / 'kd', *common(cifar_slice, 1),
                f'model.teacher.checkpoint={teacher}',
                *narrow('model.teacher.'),
                'model.backbone.stem_channels=8',
                'model.backbone.base_channels=8', 'model.head.in_channels=64')
    assert 'loss_distill:' in log and 'accuracy/top1' in log
    kd = state(tmp_path / 'kd' / 'epoch_1.pth')
    # The teacher is the fine-tuned network, weights and BatchNorm
    # statistics unchanged by distillation.
    for key, value in ft.items():
        assert torch.equal(kd[f'teacher.{key}'], value), key
    # A student of other classes than the teacher's is refused up front.
    last = refused(DISTILL, tmp_path / 'kd_bad', *common(cifar_slice, 1),
                   f'model.teacher.checkpoint={teacher}',
                   'model.head.num_classes=100')
    assert last.startswith('error: the student classifies into '
                           'model.head.num_classes=100 classes')


def test_pipeline_commands_chain_the_steps(tmp_path, capsys):
    pipeline = load_tool('tools/benchmarks/cifar10_simclrv2.py')
    pipeline.main(['--preset', 'cpu', '--dry-run', '--data-root',
                   str(tmp_path / 'data'), '--work-root', str(tmp_path)])
    out = capsys.readouterr().out
    pretrained = tmp_path / 'pretrain' / 'epoch_6.pth'
    assert f'model.init_cfg.checkpoint={pretrained}' in out
    teacher = tmp_path / 'finetune_10pct' / 'epoch_10.pth'
    assert f'model.teacher.checkpoint={teacher}' in out
    # Fine-tuning lr: 0.005 x sqrt(128); pretraining and distillation scale
    # theirs (1.0 per 256 images) themselves.
    assert out.count('optim_wrapper.optimizer.lr=0.0565685') == 2
    assert out.count('optim_wrapper.optimizer.lr=') == 3  # + the baseline
    assert 'model.backbone.init_cfg=None' in out  # the baseline: no weights
