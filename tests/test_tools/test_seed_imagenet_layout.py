"""The headline config starts as a user runs it: ``configs/seed/
seed_r50_to_mbv3.py`` on an ImageNet-layout folder with a teacher checkpoint
in the official MoCo v2 format (``module.encoder_q.*``, MLP ``fc``)."""
from collections import OrderedDict

import numpy as np
import torch
from mmpretrain.models import MoCoV2Neck, ResNet
from PIL import Image

from conftest import run_tool
from test_train import load_state

SEED_MBV3 = 'configs/seed/seed_r50_to_mbv3.py'


def official_moco_v2_r50(path) -> OrderedDict:
    """Write a random ResNet-50 MoCo v2 checkpoint as main_moco.py saves it;
    return the teacher state dict (``backbone.*``, ``neck.*``) it holds."""
    torch.manual_seed(0)  # PyTorch's default init: finite activations
    backbone, neck = ResNet(depth=50), MoCoV2Neck(2048, 2048, 128)
    teacher = OrderedDict()
    for prefix, module in (('backbone.', backbone), ('neck.', neck)):
        for key, value in module.state_dict().items():
            teacher[prefix + key] = value
    state = OrderedDict()
    for key, value in teacher.items():
        key = key.replace('backbone.', 'encoder_q.', 1).replace(
            'neck.mlp.', 'encoder_q.fc.', 1)
        state['module.' + key] = value
    state['module.queue'] = torch.randn(128, 16)
    torch.save({'epoch': 200, 'arch': 'resnet50', 'state_dict': state}, path)
    return teacher


def imagenet_folder(root, classes=('n01440764', 'n01443537'), per_class=2):
    """train/<wnid>/<name>.JPEG with random 64-px RGB images."""
    rng = np.random.default_rng(0)
    for wnid in classes:
        folder = root / 'train' / wnid
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f'{wnid}_{i}.JPEG')
    return root


def test_seed_r50_to_mbv3_starts_on_imagenet_layout(tmp_path):
    checkpoint = tmp_path / 'moco_v2_200ep_pretrain.pth.tar'
    teacher = official_moco_v2_r50(checkpoint)
    data = imagenet_folder(tmp_path / 'imagenet')
    work = tmp_path / 'work'
    result = run_tool(
        'tools/train.py', SEED_MBV3, '--work-dir', work, '--cfg-options',
        f'model.teacher.checkpoint={checkpoint}',
        f'train_dataloader.dataset.data_root={data}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1')
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert f'teacher loaded from {checkpoint} (moco format)' in log
    # Finite losses: a NaN would have stopped the run (NonFiniteLossHook).
    assert 'loss_seed:' in log and 'loss_seed: nan' not in log

    # Two iterations ran; the frozen teacher is the checkpoint's query encoder.
    state = load_state(work / 'epoch_1.pth')
    assert int(state['queue.ptr']) == 4
    for key, value in teacher.items():
        assert torch.equal(state[f'teacher.{key}'], value), key
