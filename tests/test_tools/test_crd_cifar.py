"""CRD with tools/train.py on real CIFAR-10 images: the supervised teacher,
CRD + KD from it, a bit-identical resume of the banks, the label-free mode,
and the one-line errors of bad input."""
import torch

from conftest import run_tool

TEACHER = 'configs/crd/resnet18-cifar_1xb64-240e_cifar10.py'
CRD_KD = 'configs/crd/crd-kd_r18-cifar_to_r18w05-cifar_1xb64-240e_cifar10.py'
LABEL_FREE = 'configs/crd/crd_r18-cifar-mocov2_to_r18w05-cifar_cifar10.py'
# Narrow ResNet-18s (64-d features) keep the runs fast.
NARROW = ['backbone.stem_channels=8', 'backbone.base_channels=8']


def common(data, epochs):
    return [f'train_dataloader.dataset.data_root={data}',
            f'val_dataloader.dataset.data_root={data}',
            f'test_dataloader.dataset.data_root={data}',
            'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False',
            f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={epochs}',
            'default_hooks.checkpoint.interval=1',
            'default_hooks.logger.interval=1', 'randomness.seed=0']


def crd_options(teacher, head=True):
    options = [f'model.{k}' for k in NARROW] + [
        f'model.teacher.{k}' for k in NARROW] + [
        f'model.teacher.checkpoint={teacher}', 'model.num_negatives=16',
        'model.student_embed.in_channels=64',
        'model.teacher_embed.in_channels=64']
    if head:
        options += ['model.head.in_channels=64',
                    'model.teacher.head.in_channels=64']
    return options


def run(config, work, *options):
    return run_tool('tools/train.py', config, '--work-dir', work,
                    '--cfg-options', *options)


def train(config, work, *options):
    result = run(config, work, *options)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def refused(config, work, *options):
    result = run(config, work, *options)
    assert result.returncode == 2, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def state(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def test_supervised_crd_on_real_images(cifar_slice, tmp_path):
    # The supervised teacher (80 images, 5 steps).
    train(TEACHER, tmp_path / 'teacher', *common(cifar_slice, 1),
          *[f'model.{k}' for k in NARROW], 'model.head.in_channels=64')
    teacher = tmp_path / 'teacher' / 'epoch_1.pth'
    # CRD + KD, 2 epochs.
    options = [*common(cifar_slice, 2), *crd_options(teacher)]
    log = train(CRD_KD, tmp_path / 'crd', *options)
    assert all(f'{k}:' in log for k in ('loss_ce', 'loss_kd', 'loss_crd'))
    assert 'memory banks sized for 80 training images' in log
    assert 'accuracy/top1' in log
    done = state(tmp_path / 'crd' / 'epoch_2.pth')
    assert done['banks.student'].shape == done['banks.teacher'].shape == (
        80, 128)
    for key, value in state(teacher).items():
        assert torch.equal(done[f'teacher.{key}'], value), key
    # 1 epoch + --resume + 1 epoch ends where 2 epochs did: weights, banks
    # and their normalising constants bit-identical.
    resumed = tmp_path / 'resumed'
    result = run_tool('tools/train.py', CRD_KD, '--work-dir', resumed,
                      '--resume', tmp_path / 'crd' / 'epoch_1.pth',
                      '--cfg-options', *options)
    assert result.returncode == 0, result.stderr[-3000:]
    again = state(resumed / 'epoch_2.pth')
    assert again.keys() == done.keys()
    for key in done:
        assert torch.equal(again[key], done[key]), key
    # Bad input: one error line each.
    last = refused(CRD_KD, tmp_path / 'bad', *common(cifar_slice, 1),
                   *crd_options(teacher), 'model.num_negatives=80')
    assert last.startswith('error: model.num_negatives=80 negatives per '
                           'image need more than 80 training images')
    last = refused(CRD_KD, tmp_path / 'bad', *common(cifar_slice, 1),
                   *crd_options(teacher), 'model.num_samples=50')
    assert 'the memory banks hold 50 rows but the training set has 80' in last
    last = refused(CRD_KD, tmp_path / 'bad', *common(cifar_slice, 1),
                   *crd_options(teacher),
                   'train_dataloader.dataset.pipeline.3.meta_keys=[]')
    assert "keep 'sample_idx' in PackInputs' meta_keys" in last


def test_label_free_crd_on_real_images(cifar_slice, tmp_path):
    # Any checkpoint with a ResNet-18 backbone.* serves as the teacher here.
    train(TEACHER, tmp_path / 'teacher', *common(cifar_slice, 1),
          *[f'model.{k}' for k in NARROW], 'model.head.in_channels=64',
          'train_cfg.val_begin=2')
    teacher = tmp_path / 'teacher' / 'epoch_1.pth'
    # (A classifier checkpoint has no MoCo head: the teacher without one.)
    log = train(LABEL_FREE, tmp_path / 'crd', *common(cifar_slice, 1),
                *crd_options(teacher, head=False), 'train_cfg.val_begin=1',
                'model.teacher.neck=None')
    assert 'loss_crd:' in log and 'loss_ce' not in log
    assert 'knn/top1_k20:' in log  # the kNN evaluation of SEED's students
    last = refused(LABEL_FREE, tmp_path / 'bad', *common(cifar_slice, 1),
                   *crd_options(teacher, head=False),
                   'model.teacher.neck=None', "model.negatives=class")
    assert last.startswith('error: model.head=None (label-free CRD) reads '
                           'no labels')


def test_pipeline_commands_chain_the_stages(tmp_path, capsys):
    from conftest import load_tool
    pipeline = load_tool('tools/benchmarks/cifar10_crd.py')
    pipeline.main(['--preset', 'cpu', '--dry-run', '--data-root',
                   str(tmp_path / 'data'), '--work-root', str(tmp_path)])
    out = capsys.readouterr().out
    teacher = tmp_path / 'teacher' / 'epoch_8.pth'
    # KD and CRD students distil the supervised teacher, CE does not.
    assert out.count(f'model.teacher.checkpoint={teacher}') == 2
    moco = tmp_path / 'mocov2' / 'epoch_6.pth'
    assert out.count(f'model.teacher.checkpoint={moco}') == 2
    # K below the 5,000 images of the CPU slice, for both CRD students.
    assert out.count('model.num_negatives=4096') == 2
    assert 'model.queue_len=1024' in out  # SEED's CPU-scale queue
    # Every student at the same budget: 8 supervised epochs, 6 label-free.
    assert out.count('train_cfg.max_epochs=8') == 4
    assert out.count('train_cfg.max_epochs=6') == 3
