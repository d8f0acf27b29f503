"""SEED end to end on a real CIFAR-10 slice: a teacher trained by mmseed,
distillation through tools/train.py, resume, export to mmpretrain."""
import pytest
import torch
from mmengine.runner.checkpoint import load_checkpoint

from conftest import run_tool
from test_train import (MOCO_CIFAR, NARROW, assert_same_weights, load_state,
                        small_run)

SEED_CIFAR = 'configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py'


@pytest.fixture(scope='module')
def cifar_teacher(cifar_slice, tmp_path_factory):
    """A narrow CIFAR-10 MoCo-v2 teacher (test_train.NARROW) trained for
    one epoch by tools/train.py."""
    work = tmp_path_factory.mktemp('teacher')
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', work,
                      *small_run(cifar_slice, epochs=1), *NARROW)
    assert result.returncode == 0, result.stderr[-3000:]
    return work / 'epoch_1.pth'


def seed_run(data_root, teacher, epochs):
    """The half-width student distilling the narrow teacher (16-d
    embeddings)."""
    narrow_teacher = [option.replace('model.', 'model.teacher.', 1)
                      for option in NARROW if 'feat_dim' not in option]
    return small_run(data_root, epochs=epochs) + narrow_teacher + [
        'model.feat_dim=16', 'model.neck.out_channels=16',
        f'model.teacher.checkpoint={teacher}']


def test_seed_trains_resumes_and_exports(cifar_slice, cifar_teacher, tmp_path):
    straight, split = tmp_path / 'straight', tmp_path / 'split'
    result = run_tool('tools/train.py', SEED_CIFAR, '--work-dir', straight,
                      *seed_run(cifar_slice, cifar_teacher, 2))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert f'teacher loaded from {cifar_teacher} (mmpretrain format)' in log
    assert 'loss_seed:' in log

    # Resume restores weights and the queue exactly.
    for epochs, extra in ((1, []), (2, ['--resume'])):
        result = run_tool('tools/train.py', SEED_CIFAR, '--work-dir', split,
                          *extra, *seed_run(cifar_slice, cifar_teacher, epochs))
        assert result.returncode == 0, result.stderr[-3000:]
    final = load_state(straight / 'epoch_2.pth')
    assert_same_weights(load_state(split / 'epoch_2.pth'), final)
    first = load_state(split / 'epoch_1.pth')
    assert not torch.equal(first['queue.embeddings'], final['queue.embeddings'])
    # The teacher in the checkpoints is the one loaded, untouched.
    teacher = load_state(cifar_teacher)
    for key in ('backbone.layer4.1.bn2.running_var', 'neck.mlp.2.weight'):
        assert torch.equal(final[f'teacher.{key}'], teacher[key])

    # Export the student and load it into an mmpretrain classifier.
    exported = tmp_path / 'student.pth'
    result = run_tool('tools/model_converters/extract_student.py',
                      straight / 'epoch_2.pth', exported)
    assert result.returncode == 0, result.stderr
    from mmseed.registry import MODELS
    from mmseed.utils import register_all_modules
    register_all_modules()
    classifier = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=32,
                      base_channels=32),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=256)))
    load_checkpoint(classifier, str(exported), strict=False)
    for key, value in classifier.backbone.state_dict().items():
        assert torch.equal(value, final[f'backbone.{key}']), key


def test_teacher_checkpoint_mismatch_is_a_one_line_error(cifar_slice,
                                                          cifar_teacher,
                                                          tmp_path):
    # The CIFAR ResNet-18 teacher file given to a ResNet-50 teacher config.
    result = run_tool('tools/train.py', SEED_CIFAR, '--work-dir', tmp_path,
                      *seed_run(cifar_slice, cifar_teacher, 1),
                      'model.teacher.backbone.depth=50')
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and 'mmpretrain' in last


def test_missing_teacher_checkpoint_is_a_one_line_error(cifar_slice, tmp_path):
    result = run_tool('tools/train.py', SEED_CIFAR, '--work-dir', tmp_path,
                      *seed_run(cifar_slice, tmp_path / 'nope.pth', 1))
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert 'teacher checkpoint not found' in result.stderr
    assert 'model.teacher.checkpoint=PATH' in result.stderr


def test_student_neck_that_does_not_fit_its_backbone(cifar_slice,
                                                     cifar_teacher, tmp_path):
    # The half-width ResNet-18 ends in 256 channels; the neck is told 128.
    # Only the first iteration can see it: one line, before any weights move.
    result = run_tool('tools/train.py', SEED_CIFAR, '--work-dir', tmp_path,
                      *seed_run(cifar_slice, cifar_teacher, 1),
                      'model.neck.in_channels=128')
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last == ('error: the backbone outputs 256-channel features but '
                    'model.neck expects 128: set model.neck.in_channels=256')
    assert not list(tmp_path.glob('*.pth'))


def test_study_presets_plan_every_method(tmp_path, capsys):
    """The study's cpu preset: every method, its evaluations and the
    SimCLRv2 chain; the quick preset: teacher, then MobileNetV3-L by SEED
    and by MoCo-v2."""
    from conftest import load_tool
    study = load_tool('tools/benchmarks/cifar10_study.py')
    study.main(['--preset', 'cpu', '--dry-run', '--data-root',
                str(tmp_path / 'data'), '--work-root', str(tmp_path)])
    out = capsys.readouterr().out
    for config in ('mocov2_r18w05', 'simclr_r18w05', 'seed_r18-cifar_to_r18w05',
                   'crd_r18-cifar-mocov2', 'dogo_r18-cifar_r18w05',
                   'simclrv2_r18-cifar', 'simclrv2-ft_r18-cifar',
                   'simclrv2-distill_r18-cifar_to_r18w05',
                   'esvit_swin-cifar', 'dino_swin-cifar', 'mocov2_mbv3',
                   'seed_r18-cifar_to_mbv3'):
        assert out.count(f'{config}') >= 1, config
    # 11 networks to evaluate (the teacher, 6 ResNet-18 x0.5 students, 2
    # MobileNetV3-L, 2 Swin) x (kNN, linear, 10% fine-tune; none for Swin);
    # 13 trainings (with SimCLRv2's pretraining and fine-tune): the teacher
    # 4 epochs, the others 3.
    assert out.count('knn.sh') == 11 and out.count('linear.sh') == 11
    assert out.count('semi.sh') == 9
    trainings = [line for line in out.splitlines() if 'tools/train.py' in line]
    assert len(trainings) == 13
    assert sum('train_cfg.max_epochs=4 ' in line for line in trainings) == 1
    assert sum('train_cfg.max_epochs=3 ' in line for line in trainings) == 12
    teacher = tmp_path / 'teacher_r18-cifar' / 'epoch_4.pth'
    assert out.count(f'model.teacher.checkpoint={teacher}') == 3  # SEED x2, CRD
    assert str(tmp_path / 'dogo_r18w05' / 'peer2_epoch_3.pth') in out
    study.main(['--preset', 'quick', '--dry-run', '--data-root',
                str(tmp_path / 'data'), '--work-root', str(tmp_path / 'q')])
    out = capsys.readouterr().out
    assert 'stage 6/6' in out and out.count('knn.sh') == 3
    assert 'mocov2_mbv3' in out and 'seed_r18-cifar_to_mbv3' in out
    # The teacher at the configs' lr rule (0.03 x 64/256), both students at
    # the preset's lr, each command with one lr.
    trainings = [line for line in out.splitlines() if 'tools/train.py' in line]
    assert [line.count('optim_wrapper.optimizer.lr=') for line in trainings
            ] == [1, 1, 1]
    assert 'optim_wrapper.optimizer.lr=0.0075 ' in trainings[0]
    assert all('optim_wrapper.optimizer.lr=0.06 ' in line
               for line in trainings[1:])
    # Some rows of a preset: the teacher, the rows asked for, their
    # evaluations (3 networks x kNN, linear, 10% fine-tune).
    study.main(['--preset', 'cpu', '--students', 'mbv3', '--methods',
                'mocov2', 'seed', '--dry-run', '--data-root',
                str(tmp_path / 'data'), '--work-root', str(tmp_path / 'm')])
    out = capsys.readouterr().out
    trainings = [line for line in out.splitlines() if 'tools/train.py' in line]
    assert 'stage 12/12' in out and len(trainings) == 3
    assert 'mocov2_mbv3' in trainings[1] and 'to_mbv3' in trainings[2]
    assert 'r18w05' not in out and 'esvit' not in out
    # --help lists the study's own options with the shared ones.
    with pytest.raises(SystemExit):
        study.main(['--help'])
    out = capsys.readouterr().out
    assert all(f'--{name}' in out
               for name in ('students', 'methods', 'epochs', 'preset'))


def test_study_time_left_times_trainings_and_evaluations_apart():
    """The study's ETA: each kind of stage at its own mean so far; a kind
    not run yet is said to be untimed, never guessed from the other."""
    from conftest import load_tool
    study = load_tool('tools/benchmarks/cifar10_study.py')
    train, evaluate = (study.Stage('t', None), study.Stage('e', None, False))
    stages = [train, train, evaluate, evaluate, evaluate]
    assert study.time_left(stages, {True: [], False: []}) == ''
    assert study.time_left(stages, {True: [600, 1200], False: []}) == (
        ', about 30:00 left + 3 evaluations not timed yet')
    assert study.time_left(stages[1:], {True: [1800], False: [40]}) == (
        ', about 32:00 left')
    assert study.time_left(stages, {True: [3000], False: [20]}) == (
        ', about 1:41:00 left')
    assert study.time_left(stages[3:], {True: [3000], False: []}) == ''


def test_study_keeps_stage_times_across_reruns(tmp_path, monkeypatch):
    """The time a stage took is written when it ends and kept when a rerun
    skips it as done; the times table sums the stages."""
    from conftest import load_tool
    study = load_tool('tools/benchmarks/cifar10_study.py')
    preset, root, pipe, _ = study.simclrv2.start('study', '', study.PRESETS, [
        '--preset', 'quick', '--dry-run', '--work-root', str(tmp_path),
        '--data-root', str(tmp_path / 'data')])
    plan = study.Study(preset, pipe)
    pipe.dry_run, plan.skipped_under = False, 0.05
    clock = iter([0, 0, 0, 60, 60, 60, 90])  # start, then 3 per stage
    monkeypatch.setattr(study.time, 'monotonic', lambda: next(clock))
    plan.stages = [study.Stage('teacher', lambda: None),
                   study.Stage('knn', lambda: None, training=False)]
    assert plan.times_table() == ''
    plan.run()
    assert plan.stage_times() == {'teacher': 60.0, 'knn': 30.0}
    clock = iter([0, 0, 0, 0.01, 0.01, 0.01, 0.02])  # both skipped as done
    plan.run()
    assert plan.stage_times() == {'teacher': 60.0, 'knn': 30.0}
    assert plan.times_table().splitlines() == [
        '| stage | minutes |', '| --- | --- |', '| teacher | 1.0 |',
        '| knn | 0.5 |', '| all | 1.5 |']
    plan.stages.append(study.Stage('linear', lambda: None, training=False))
    assert plan.times_table().splitlines()[-1] == (
        '| the 2 of 3 stages timed | 1.5 |')
