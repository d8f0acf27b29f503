"""A normal run prints no warning that is not about the user's run.

The tools run in a subprocess with Python's default warning filters (no
``PYTHONWARNINGS``, unlike ``conftest.run_tool``; pytest.ini's filters apply
only inside the pytest process), so the output is what a user sees.
"""
import os
import subprocess
import sys
import warnings

import pytest
import torch

from conftest import REPO
from mmseed import compat
from mmseed.engine.optimizers import amp_optim_wrapper
from mmseed.registry import OPTIM_WRAPPERS

MOCO_CIFAR = 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py'
KNN_R18_CIFAR = 'configs/benchmarks/knn/knn_r18-cifar_cifar10.py'
# A narrow ResNet-18 (8-64 channels) keeps the runs short.
NARROW = ['model.backbone.stem_channels=8', 'model.backbone.base_channels=8']


def run_quietly(*args):
    """``python <args>`` from the repository root with Python's default
    warning filters; returns (returncode, stdout + stderr)."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO,
                            env=env, capture_output=True, text=True,
                            timeout=600)
    return result.returncode, result.stdout + result.stderr


def warning_lines(output):
    """Python warnings (``UserWarning: ...``, ``FutureWarning: ...``) and
    mmengine's WARNING log lines."""
    return [line for line in output.splitlines()
            if 'Warning' in line or ' - WARNING - ' in line]


def test_tiny_training_and_evaluation_print_no_warning(cifar_slice, tmp_path):
    """Two iterations of MoCo (one dataloader worker, a checkpoint saved),
    then a kNN evaluation of that checkpoint."""
    work = tmp_path / 'work'
    rc, out = run_quietly(
        'tools/train.py', MOCO_CIFAR, '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.data_root={cifar_slice}',
        f'val_dataloader.dataset.data_root={cifar_slice}',
        'train_dataloader.dataset.indices=16', 'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=1', 'train_cfg.max_epochs=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
        'model.queue_len=64', *NARROW,
        'model.neck.in_channels=64', 'model.neck.hid_channels=32',
        'model.neck.out_channels=16', 'model.feat_dim=16')
    assert rc == 0, out[-3000:]
    assert 'Epoch(train) [1][2/2]' in out and (work / 'epoch_1.pth').is_file()
    assert warning_lines(out) == []

    rc, out = run_quietly(
        'tools/test.py', KNN_R18_CIFAR, work / 'epoch_1.pth', '--work-dir',
        tmp_path / 'knn', '--cfg-options',
        f'test_dataloader.dataset.data_root={cifar_slice}',
        'test_dataloader.batch_size=40', 'test_dataloader.num_workers=1',
        'test_cfg.bank_dataloader.num_workers=1',
        'test_evaluator.k=[5]', *NARROW)
    assert rc == 0, out[-3000:]
    assert 'knn/top1_k5' in out
    assert warning_lines(out) == []


def _only_mmseeds_filters():
    """Inside ``catch_warnings(record=True)``: mmseed's filters, then record
    every other warning (instead of pytest.ini's filters)."""
    warnings.resetwarnings()
    compat._filter_known_warnings()
    warnings.simplefilter('always', append=True)


@pytest.mark.parametrize('loss_scale, init_scale', [
    ('dynamic', 2.**16), (512., 512.), (dict(init_scale=64.), 64.)])
def test_amp_optim_wrapper_uses_torch_amp_grad_scaler(loss_scale, init_scale,
                                                      monkeypatch):
    """``--amp``'s wrapper on a CUDA machine (faked here) builds
    ``torch.amp.GradScaler('cuda')`` without a warning; mmengine's built the
    deprecated ``torch.cuda.amp.GradScaler``, with a FutureWarning on every
    run."""
    monkeypatch.setattr(amp_optim_wrapper, 'get_device', lambda: 'cuda')
    monkeypatch.setattr(torch.cuda.amp.common, 'amp_definitely_not_available',
                        lambda: False)
    model = torch.nn.Linear(2, 1)
    with warnings.catch_warnings(record=True) as caught:
        _only_mmseeds_filters()
        wrapper = OPTIM_WRAPPERS.build(dict(
            type='mmseed.AmpOptimWrapper', loss_scale=loss_scale,
            dtype='bfloat16',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    assert [str(w.message) for w in caught] == []
    assert type(wrapper) is amp_optim_wrapper.AmpOptimWrapper
    assert type(wrapper.loss_scaler) is torch.amp.GradScaler
    assert wrapper.loss_scaler._device == 'cuda'
    assert wrapper.loss_scaler._init_scale == init_scale
    assert wrapper.cast_dtype is torch.bfloat16
    assert wrapper._scale_update_param == (
        loss_scale if isinstance(loss_scale, float) else None)


def test_train_amp_names_mmseeds_wrapper(monkeypatch):
    from mmengine.config import Config

    from conftest import load_tool
    train = load_tool('tools/train.py')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(optim_wrapper=dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    cfg = train.merge_args(cfg, train.parse_args(['x.py', '--amp']))
    assert OPTIM_WRAPPERS.get(cfg.optim_wrapper.type) is \
        amp_optim_wrapper.AmpOptimWrapper
    # And a config's own AmpOptimWrapper, in mmseed's scope, is mmseed's.
    assert OPTIM_WRAPPERS.get('AmpOptimWrapper') is \
        amp_optim_wrapper.AmpOptimWrapper


def _shown(message, module, category=UserWarning):
    """Whether a warning would be shown under mmseed's filters alone."""
    with warnings.catch_warnings(record=True) as caught:
        _only_mmseeds_filters()
        warnings.warn_explicit(message, category, f'{module}.py', 1,
                               module=module)
    return bool(caught)


def test_warning_filters_match_exact_messages_only():
    notices = [(compat._MMCV_LITE_NOTICE, 'mmcv.cnn.bricks.transformer'),
               (compat._PILLOW_ALPHA_NOTICE, 'mmcv.image.photometric'),
               (compat._HSIGMOID_NOTICE, 'mmcv.cnn.bricks.hsigmoid')]
    for message, module in notices:
        assert not _shown(message, module)
        # Another message, module or category is still shown.
        assert _shown(message + ' (more)', module)
        assert _shown('Something else. ' + message, module)
        assert _shown(message, 'mmseed.models')
        assert _shown(message, module, category=DeprecationWarning)


def test_building_a_mobilenet_v3_student_warns_nothing():
    """mmcv's HSigmoid notice (one per squeeze-excitation layer) is gone."""
    from mmseed.registry import MODELS
    from mmseed.utils import register_all_modules
    register_all_modules()
    with warnings.catch_warnings(record=True) as caught:
        _only_mmseeds_filters()
        MODELS.build(dict(type='MobileNetV3', arch='large'))
    assert not [str(w.message) for w in caught]


def test_train_amp_bf16_and_no_gpu(monkeypatch):
    import pytest
    from mmengine.config import Config

    from conftest import load_tool
    from mmseed.errors import ConfigError
    train = load_tool('tools/train.py')

    def config():
        return Config(dict(optim_wrapper=dict(
            type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ConfigError, match=r'^--amp fp16 needs a CUDA GPU'):
        train.merge_args(config(), train.parse_args(['x.py', '--amp']))
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    fp16 = train.merge_args(config(), train.parse_args(['x.py', '--amp']))
    assert 'dtype' not in fp16.optim_wrapper  # float16, mmengine's default
    bf16 = train.merge_args(config(),
                            train.parse_args(['x.py', '--amp', 'bf16']))
    assert bf16.optim_wrapper.dtype == 'bfloat16'
    assert bf16.optim_wrapper.loss_scale == 'dynamic'
