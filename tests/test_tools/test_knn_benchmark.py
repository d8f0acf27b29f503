"""tools/benchmarks/knn.sh on a real CIFAR-10 slice, one and two processes,
and kNN validation during pretraining (CPU)."""
import json
import os
import re
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmpretrain.evaluation import Accuracy

from conftest import REPO, run_tool
from mmseed.evaluation import weighted_knn_predict
from mmseed.registry import DATASETS, MODELS
from mmseed.utils import register_all_modules

register_all_modules()

KNN_R18W05 = 'configs/benchmarks/knn/knn_r18w05-cifar_cifar10.py'
MOCO_CIFAR = 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py'
KEYS = {'knn/top1_k20', 'knn/top5_k20', 'knn/top1_k200', 'knn/top5_k200'}


@pytest.fixture(scope='module')
def student(tmp_path_factory):
    """A SEED-style checkpoint: student backbone.*, plus teacher and queue."""
    torch.manual_seed(0)
    cfg = Config.fromfile(KNN_R18W05)
    backbone = MODELS.build(cfg.model.backbone)
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state['teacher.backbone.conv1.weight'] = torch.randn(8, 3, 3, 3)
    state['queue.embeddings'] = torch.randn(16, 128)
    path = tmp_path_factory.mktemp('ckpt') / 'seed_epoch_1.pth'
    torch.save({'state_dict': state, 'meta': {}}, path)
    backbone.eval()  # some backbones' train() returns None: no chaining
    return path, backbone


def features_by_hand(backbone, root, split):
    """Features of a split: RGB, CIFAR-normalised, pooled last stage."""
    dataset = DATASETS.build(dict(
        type='CustomDataset', data_root=str(root), data_prefix=split,
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]))
    items = [dataset[i] for i in range(len(dataset))]
    images = torch.stack([item['inputs'] for item in items]).flip(1).float()
    preprocessor = Config.fromfile(KNN_R18W05).model.data_preprocessor
    mean = torch.tensor(preprocessor.mean).view(1, 3, 1, 1)
    std = torch.tensor(preprocessor.std).view(1, 3, 1, 1)
    with torch.no_grad():
        feats = backbone((images - mean) / std)[-1].mean(dim=(2, 3))
    return feats, torch.cat([item['data_samples'].gt_label for item in items])


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_knn(*args, env=None, cwd=REPO):
    full_env = dict(os.environ, PYTHON=sys.executable, PYTHONWARNINGS='ignore')
    full_env.pop('WORK_DIR', None)
    full_env.update(env or {})
    return subprocess.run(
        ['bash', REPO / 'tools/benchmarks/knn.sh', *map(str, args)], cwd=cwd,
        env=full_env, capture_output=True, text=True, timeout=600)


def data_options(root=None, batch=32):
    """``--cfg-options`` for a small run; ``root=None``: set by DATA_ROOT."""
    return ['--cfg-options', f'test_dataloader.batch_size={batch}',
            'test_dataloader.num_workers=0',
            'test_cfg.bank_dataloader.num_workers=0'] + (
                [f'test_dataloader.dataset.data_root={root}'] if root else [])


@pytest.mark.parametrize('gpus', [1, 2])
def test_knn_sh_matches_knn_of_features_by_hand(gpus, student, cifar_slice,
                                                tmp_path):
    checkpoint, backbone = student
    work = tmp_path / 'work'
    gpu_args = [gpus] if gpus > 1 else []
    env = dict(WORK_DIR=str(work), PORT=str(_free_port()))
    if gpus == 1:  # the data root through DATA_ROOT (test split and bank)
        env['DATA_ROOT'] = str(cifar_slice)
    result = run_knn(KNN_R18W05, checkpoint, *gpu_args,
                     *data_options(None if gpus == 1 else cifar_slice),
                     env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert f'Distributed training: {gpus > 1}' in out
    metrics = json.loads((work / 'knn_metrics.json').read_text())
    assert set(metrics) == KEYS
    assert all(0 <= v <= 100 for v in metrics.values())

    bank, bank_labels = features_by_hand(backbone, cifar_slice, 'train')
    queries, labels = features_by_hand(backbone, cifar_slice, 'test')
    for k in (20, 200):  # 200 is clipped to the 80 bank images
        scores = weighted_knn_predict(bank, bank_labels, queries, 10, k=k)
        top1, top5 = Accuracy.calculate(scores, labels, topk=(1, 5))
        assert metrics[f'knn/top1_k{k}'] == pytest.approx(top1[0].item())
        assert metrics[f'knn/top5_k{k}'] == pytest.approx(top5[0].item())


def test_missing_bank_is_a_one_line_error(student, cifar_slice, tmp_path):
    """Without train/ the bank cannot load: one line saying what to set.
    Run from tmp_path, the default work dir is created there."""
    checkpoint, _ = student
    (tmp_path / 'data').mkdir()
    os.symlink(cifar_slice / 'test', tmp_path / 'data' / 'test')
    result = run_knn(REPO / KNN_R18W05, checkpoint,
                     *data_options(tmp_path / 'data'), cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    missing = tmp_path / 'data' / 'train'
    assert last.startswith(f'error: kNN data not found: {missing}')
    assert 'test_dataloader.dataset.data_root=PATH' in last
    assert (tmp_path / 'work_dirs/benchmarks/knn/knn_r18w05-cifar_cifar10/'
            'seed_epoch_1').is_dir()


def test_pretraining_reports_knn_every_val_interval(cifar_slice, tmp_path):
    """One MoCo epoch on 16 slice images, then kNN validation on the slice."""
    result = run_tool(
        'tools/train.py', MOCO_CIFAR, '--work-dir', tmp_path,
        '--cfg-options', f'train_dataloader.dataset.data_root={cifar_slice}',
        'train_dataloader.dataset.indices=16',
        'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
        'model.queue_len=64', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'train_cfg.val_begin=1',
        f'val_dataloader.dataset.data_root={cifar_slice}',
        'val_dataloader.num_workers=0',
        'val_cfg.bank_dataloader.num_workers=0')
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert 'kNN: 80 bank features' in out
    line = re.search(r'Epoch\(val\) \[1\]\[1/1\] +knn/.*', out)
    assert line, out[-3000:]
    values = dict(re.findall(r'(knn/\w+): ([\d.]+)', line.group(0)))
    assert set(values) == KEYS
    assert all(0 <= float(v) <= 100 for v in values.values())
