"""The three benchmark commands (kNN, linear probe, 10%-label fine-tune) on
an EfficientNet-B0 student, with the ImageNet configs on a tiny
ImageNet-layout folder (train/ and val/ of 2 classes, random 64-px JPEGs)."""
import numpy as np
import pytest
from PIL import Image

from test_linear_eval import (assert_backbone_untouched, load, run_script,
                              save_seed_like_checkpoint)

EFFB0 = dict(type='EfficientNet', arch='b0')
CONFIGS = {
    'knn': 'configs/benchmarks/knn/knn_effb0_in1k.py',
    'linear': 'configs/benchmarks/linear_eval/'
    'efficientnet-b0_8xb32-linear-bn-lars-coslr-90e_in1k.py',
    'semi': 'configs/benchmarks/semi_supervised/'
    'efficientnet-b0_8xb32-ft-coslr-30e_in1k-10pct.py',
}
WNIDS = ('n01440764', 'n01443537')


@pytest.fixture(scope='module')
def imagenet_like(tmp_path_factory):
    """train/<wnid>/ and val/<wnid>/ with 4 images a class, and a 10% label
    file in the CustomDataset format (all train images, for the test)."""
    root = tmp_path_factory.mktemp('imagenet')
    rng = np.random.default_rng(0)
    lines = []
    for split in ('train', 'val'):
        for label, wnid in enumerate(WNIDS):
            (root / split / wnid).mkdir(parents=True)
            for i in range(4):
                name = f'{wnid}_{i}.JPEG'
                pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / wnid / name)
                if split == 'train':
                    lines.append(f'{wnid}/{name} {label}')
    (root / 'meta').mkdir()
    (root / 'meta' / 'train_10percent.txt').write_text('\n'.join(lines) + '\n')
    return root


@pytest.fixture(scope='module')
def effb0_student(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'seed_effb0.pth'
    return path, save_seed_like_checkpoint(path, EFFB0)


def small(*extra):
    return ['--cfg-options', 'default_hooks.logger.interval=1',
            'randomness.seed=0', *extra]


def test_knn_of_an_efficientnet_student(imagenet_like, effb0_student,
                                        tmp_path):
    checkpoint, _ = effb0_student
    result = run_script(
        'tools/benchmarks/knn.sh', CONFIGS['knn'], checkpoint,
        *small('test_dataloader.batch_size=4', 'test_dataloader.num_workers=0',
               'test_cfg.bank_dataloader.num_workers=0'),
        work_dir=tmp_path / 'knn', data_root=imagenet_like)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert 'knn/top1_k20' in out and 'knn/top1_k200' in out


@pytest.mark.parametrize('kind', ['linear', 'semi'])
def test_linear_and_semi_train_an_efficientnet_student(
        kind, imagenet_like, effb0_student, tmp_path):
    checkpoint, state = effb0_student
    work = tmp_path / kind
    result = run_script(
        f'tools/benchmarks/{kind}.sh', CONFIGS[kind], checkpoint,
        *small('train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
               'train_dataloader.num_workers=0',
               'val_dataloader.num_workers=0'),
        work_dir=work, data_root=imagenet_like)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert 'Epoch(train) [1][2/2]' in out and 'accuracy/top1' in out
    trained = load(work / 'epoch_1.pth')['state_dict']
    if kind == 'linear':  # frozen backbone, BN statistics included
        assert_backbone_untouched(trained, state)
    else:  # fine-tuning moves the backbone's weights
        weights = [k for k in state
                   if k.startswith('backbone.') and k.endswith('.weight')]
        moved = [k for k in weights if not (trained[k] == state[k]).all()]
        assert len(moved) > len(weights) // 2, (len(moved), len(weights))
