"""EsViT with tools/train.py on real CIFAR-10 images and multi-crop: both
losses logged, the student evaluated by kNN, the teacher in the checkpoint."""
import torch

from conftest import run_tool

ESVIT = 'configs/esvit/esvit_swin-cifar_1xb256-100e_cifar10.py'


def test_esvit_trains_on_real_images_with_multi_crop(cifar_slice, tmp_path):
    data = cifar_slice
    result = run_tool(
        'tools/train.py', ESVIT, '--work-dir', tmp_path, '--cfg-options',
        f'train_dataloader.dataset.data_root={data}',
        f'val_dataloader.dataset.data_root={data}',
        f'test_dataloader.dataset.data_root={data}',
        'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'train_cfg.val_begin=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'randomness.seed=0',
        # Narrow heads keep the run fast.
        'model.head.out_dim=256', 'model.region_head.out_dim=256')
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert 'loss_view:' in log and 'loss_region:' in log
    assert 'knn/top1_k20:' in log
    state = torch.load(tmp_path / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert {k.split('.')[1] for k in state if k.startswith('teacher.')} == {
        'backbone', 'head', 'region_head'}
    # The heads' last layers are frozen in epoch 0 (FreezeParametersHook):
    # the student's still hold their initial weights, which the teacher
    # copied and, following equal weights, keeps.
    for key in ('head.last_layer.weight_v', 'region_head.last_layer.weight_v'):
        assert torch.equal(state[key], state[f'teacher.{key}']), key


def test_pipeline_commands_train_both_and_evaluate_teachers(tmp_path,
                                                            capsys):
    from conftest import load_tool
    pipeline = load_tool('tools/benchmarks/cifar10_esvit.py')
    pipeline.main(['--preset', 'cpu', '--dry-run', '--data-root',
                   str(tmp_path / 'data'), '--work-root', str(tmp_path)])
    out = capsys.readouterr().out
    # The same budget for both: 6 epochs, batch 64 at lr 5e-4 and the
    # teacher temperature fixed at DINO's 0.04 (the cpu preset's).
    for option in ('train_cfg.max_epochs=6', 'train_dataloader.batch_size=64',
                   'optim_wrapper.optimizer.lr=0.0005',
                   'model.teacher_temp=0.04',
                   'model.warmup_teacher_temp_epochs=0'):
        assert out.count(option) == 2, option
    assert out.count('optimizer.lr=') == 2  # the probes keep their own
    assert 'esvit_swin-cifar' in out and 'dino_swin-cifar' in out
    # Each run's exported teacher is what kNN and the probe evaluate.
    for tag in ('esvit', 'dino'):
        teacher = tmp_path / tag / 'teacher_epoch_6.pth'
        assert out.count(str(teacher)) == 3, tag
    assert out.count('--module teacher') == 2
    assert out.count('train_cfg.max_epochs=10') == 2  # the probes
