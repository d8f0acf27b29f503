"""tools/train.py on bad input: a corrupt image, a bad annotation file, a
queue that does not fit the batch, misspelled keys of mmseed modules, bad
images for the in-memory dataset."""
import shutil

import cv2
import numpy as np
import pytest

from conftest import REPO, run_tool

MOCO_CIFAR = 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py'
SEED_CIFAR = 'configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py'
MOCO_CIFAR_GPU_AUG = ('configs/mocov2/'
                      'mocov2_r18-cifar_1xb256-200e_cifar10_gpu-aug.py')


def tiny_run(data_root, *extra):
    """--cfg-options for one quick CPU epoch."""
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1',
        'model.queue_len=64', 'randomness.seed=0', *extra
    ]


@pytest.fixture
def data_with_corrupt_jpeg(cifar_slice, tmp_path):
    """A copy of the CIFAR slice whose first airplane is truncated."""
    root = tmp_path / 'cifar10'
    shutil.copytree(cifar_slice, root)
    bad = sorted((root / 'train' / 'airplane').iterdir())[0]
    data = bad.read_bytes()
    bad.write_bytes(data[:len(data) // 2])
    return root, bad


def test_corrupt_image_is_skipped_with_a_counted_warning(
        data_with_corrupt_jpeg, tmp_path):
    root, bad = data_with_corrupt_jpeg
    work = tmp_path / 'work'
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', work,
                      *tiny_run(root))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    warnings = [line for line in out.splitlines()
                if 'skipped unreadable image' in line]
    assert warnings and str(bad) in warnings[0]
    assert '1 file(s) skipped so far on this rank' in warnings[0]
    # The epoch still had its 5 full batches of 16.
    assert 'Epoch(train) [1][5/5]' in out
    assert (work / 'epoch_1.pth').is_file()


def test_corrupt_image_can_stop_the_run(data_with_corrupt_jpeg, tmp_path):
    root, bad = data_with_corrupt_jpeg
    result = run_tool(
        'tools/train.py', MOCO_CIFAR, '--work-dir', tmp_path / 'work',
        *tiny_run(root,
                  'train_dataloader.dataset.pipeline.0.on_corrupt=error'))
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: cannot read image {bad}')


def test_ann_file_naming_missing_images(cifar_slice, tmp_path):
    present = sorted((cifar_slice / 'train' / 'cat').iterdir())[0].name
    ann = tmp_path / 'train.txt'
    ann.write_text(f'cat/{present} 3\ncat/missing.jpg 3\n')
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', tmp_path,
                      *tiny_run(cifar_slice,
                                f'train_dataloader.dataset.ann_file={ann}'))
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: annotation file {ann} '
                           '(train_dataloader.dataset.ann_file) names 1 of 2 '
                           'images that do not exist')
    assert "e.g. 'cat/missing.jpg'" in last


def test_queue_that_does_not_fit_the_global_batch(cifar_slice, tmp_path):
    result = run_tool('tools/train.py', MOCO_CIFAR, '--work-dir', tmp_path,
                      *tiny_run(cifar_slice, 'model.queue_len=24'))
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert ('error: MoCoV2 needs model.queue_len=24 to be a multiple of the '
            'global batch 16 = train_dataloader.batch_size 16 x 1 '
            'process(es): set model.queue_len=32') in result.stderr


@pytest.mark.parametrize('option, expected', [
    ('model.queue_length=64',
     "unknown config key 'queue_length' for SEED; did you mean 'queue_len'?"),
    ('model.teacher.chekpoint=x.pth', "unknown config key 'chekpoint' for "
     "FrozenTeacher; did you mean 'checkpoint'?"),
    ('model.loss.teacher_tmp=0.01', "unknown config key 'teacher_tmp' for "
     "SEEDLoss; did you mean 'teacher_temp'?"),
    ('model.loss.type=SEEDLos', "unknown type 'SEEDLos' in model.loss.type; "
     "did you mean 'SEEDLoss'?"),
    ('model.neck.out_channels=64', 'SEED compares student and teacher '
     'embeddings of one width, but the config gives student '
     '(model.neck.out_channels) 64, teacher (model.teacher.neck.out_channels)'
     ' 128 and model.feat_dim 128'),
])
def test_seed_config_mistakes_are_one_line_errors(option, expected,
                                                  cifar_slice, tmp_path):
    # Any existing file passes the startup check of the teacher path.
    teacher = f'model.teacher.checkpoint={REPO / "README.md"}'
    result = run_tool('tools/train.py', SEED_CIFAR, '--work-dir', tmp_path,
                      *tiny_run(cifar_slice, teacher, option))
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and expected in last


@pytest.mark.parametrize('damage, expected', [
    ('not an image', 'error: cannot decode image {bad}: replace or remove '
     'the file'),
    ('larger', 'error: InMemoryImageDataset needs images of one size, but '
     '{bad} is 40x40 while'),
])
def test_in_memory_dataset_bad_image_is_a_one_line_error(
        damage, expected, cifar_slice, tmp_path):
    root = tmp_path / 'cifar10'
    shutil.copytree(cifar_slice, root)
    bad = sorted((root / 'train' / 'ship').iterdir())[0]
    if damage == 'larger':
        cv2.imwrite(str(bad), np.zeros((40, 40, 3), np.uint8))
    else:
        bad.write_bytes(b'this is not a JPEG')
    result = run_tool('tools/train.py', MOCO_CIFAR_GPU_AUG, '--work-dir',
                      tmp_path / 'work', *tiny_run(root))
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(expected.format(bad=bad)), last
