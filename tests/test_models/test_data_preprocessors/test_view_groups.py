"""MultiViewAugmentPreprocessor with a multi-view spec (``views=[...]``):
every group's views with its own size and augmentation (blur and solarize
included), pixel-exact against the CPU operations given the same
parameters, and drawn as the CPU transform MultiViewGroups draws them.

Tolerances as in test_multiview_augment.py: Kolmogorov-Smirnov distances
against the critical value at alpha = 1e-4, rates within 5 binomial
standard errors, all with fixed seeds.
"""
import dataclasses
import math
import random

import numpy as np
import pytest
import torch
from mmcv import adjust_brightness, adjust_color, adjust_contrast, adjust_hue
from mmcv.transforms import RandomGrayscale
from mmengine.config import Config
from mmpretrain.datasets.transforms import GaussianBlur

from conftest import REPO
from mmseed.errors import ConfigError
from mmseed.models.data_preprocessors import ViewParams
from mmseed.models.utils.views import split_views
from mmseed.registry import MODELS, TRANSFORMS
from mmseed.utils import register_all_modules
from test_multiview_augment import (assert_rate, assert_same_distribution,
                                    to_chw)
from test_pillow_ops import mmcv_resized_crop, mmpretrain_blur, sample_images

GPU_CFG = Config.fromfile(REPO / 'configs/_base_/datasets/cifar10_gpu_aug.py')
NORMALISE = dict(mean=[125.307, 122.961, 113.8575],
                 std=[51.5865, 50.847, 51.255], to_rgb=True)
# SEED's small patches, shrunk: 24-px images, a 16-px view, 8-px patches.
SMALL_PATCH = [
    dict(name='global', num_views=1, size=16, scale=(0.14, 1.),
         blur_prob=0.5),
    dict(name='patch', num_views=3, size=8, scale=(0.05, 0.14),
         blur_prob=0.5),
]
# Everything on, at rates that leave each operation on and off often.
BUSY = dict(name='busy', num_views=1, size=16, scale=(0.3, 1.),
            jitter=(0.4, 0.4, 0.2, 0.1), blur_prob=0.5, solarize_prob=0.5)
N = 4000


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    register_all_modules(init_default_scope=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def preprocessor(views, **kwargs):
    return MODELS.build(dict(type='MultiViewAugmentPreprocessor',
                             views=views, **NORMALISE, **kwargs))


def test_each_group_gets_its_views_in_order():
    pre = preprocessor(SMALL_PATCH)
    assert pre.num_views == 4
    assert pre.view_counts == [('global', 1), ('patch', 3)]
    images = to_chw(sample_images(n=6, size=24))
    torch.manual_seed(0)
    out = pre(dict(inputs=images, data_samples=None), True)['inputs']
    assert [v.shape for v in out] == [(6, 3, 16, 16)] + [(6, 3, 8, 8)] * 3
    groups = split_views(out, pre.view_counts)
    assert len(groups['global']) == 1 and len(groups['patch']) == 3
    assert not torch.equal(groups['patch'][0], groups['patch'][1])
    # Outside training it only normalises, as without a spec.
    plain = pre(dict(inputs=images, data_samples=None), False)['inputs']
    assert plain.shape == (6, 3, 24, 24)


def test_a_spec_like_the_gpu_aug_config_draws_its_views():
    """The single-recipe cifar10_gpu_aug.py preprocessor and its spec
    (defaults: the MoCo-v2 CIFAR augmentation) give the same views."""
    legacy = MODELS.build(GPU_CFG.gpu_aug_preprocessor)
    spec = preprocessor([dict(name='views', num_views=2, size=32)])
    images = to_chw(sample_images(n=8))
    a = legacy.augment(images, torch.Generator().manual_seed(1))[0]
    b = spec.augment(images, torch.Generator().manual_seed(1))[0]
    assert len(a) == len(b) == 2
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert spec.view_counts == legacy.view_counts == [('views', 2)]


def cpu_apply(img, params, i, size):
    """The CPU transforms' operations (crop, jitter, greyscale, blur,
    solarize, flip, as MultiViewGroups orders them), run with the device's
    parameters for sample ``i``."""
    out = mmcv_resized_crop(img, params.boxes[i].tolist(), (size, size))
    if params.jitter[i]:
        f = params.factors[i].tolist()
        for op in params.order[i].tolist():
            out = [
                lambda x: adjust_brightness(x, f[0], 'pillow'),
                lambda x: adjust_contrast(x, f[1], 'pillow'),
                lambda x: adjust_color(x, f[2], backend='pillow'),
                lambda x: adjust_hue(x, f[3], 'pillow'),
            ][op](out)
    if params.gray[i]:
        gray = RandomGrayscale(prob=1., keep_channels=True,
                               channel_weights=(0.114, 0.587, 0.2989))
        out = gray(dict(img=out))['img']
    if params.blur[i]:
        out = mmpretrain_blur(out, params.sigma[i].item())
    if params.solarize[i]:
        out = np.where(out < 128, out, 255 - out).astype(np.uint8)
    if params.flip[i]:
        out = out[:, ::-1]
    return out


def test_views_equal_the_cpu_operations_with_the_same_parameters():
    images = sample_images(n=96, size=24, seed=3)
    pre = preprocessor([BUSY])
    (views, ), (params, ) = pre.augment(to_chw(images),
                                        torch.Generator().manual_seed(2))
    views = views.permute(0, 2, 3, 1).numpy()
    expected = np.stack(
        [cpu_apply(images[i], params, i, 16) for i in range(len(images))])
    np.testing.assert_array_equal(views.astype(np.uint8), expected)
    assert (views == views.round()).all()
    for drawn in (params.jitter, params.gray, params.blur, params.solarize,
                  params.flip):
        assert drawn.any() and not drawn.all()


def test_blur_and_solarize_draws_follow_the_cpu_transforms():
    pre = preprocessor([BUSY])
    params = pre.view_augment.sample(N, 24, 24,
                                     torch.Generator().manual_seed(4))
    assert_rate(params.blur.numpy(), 0.5, 'blur')
    assert_rate(params.solarize.numpy(), 0.5, 'solarize')
    # mmpretrain's GaussianBlur(magnitude_range=(0.1, 2.0),
    # magnitude_std='inf'), as the configs state it.
    blur = GaussianBlur(magnitude_range=(0.1, 2.0), magnitude_std='inf')
    np.random.seed(4)
    cpu_sigma = np.array([blur.random_magnitude() for _ in range(N)])
    assert_same_distribution(cpu_sigma, params.sigma.numpy(), 'blur sigma')
    assert 0.1 <= params.sigma.min() < 0.11 and 1.99 < params.sigma.max() <= 2


def view_statistics(views):
    """Per view: mean, standard deviation and the mean absolute difference
    of horizontal neighbours (what the blur lowers)."""
    views = views.astype(np.float64)
    return {
        'mean': views.mean((1, 2, 3)),
        'std': views.std((1, 2, 3)),
        'sharpness': np.abs(np.diff(views, axis=2)).mean((1, 2, 3)),
    }


def test_views_have_the_distribution_of_multiview_groups():
    """Whole views of one image: CPU MultiViewGroups vs the device."""
    image = sample_images(n=13, size=24, seed=7)[12]
    transform = TRANSFORMS.build(dict(type='MultiViewGroups', views=[BUSY]))
    np.random.seed(5)
    random.seed(5)
    count = 2000
    cpu = np.stack([transform(dict(img=image.copy()))['img'][0]
                    for _ in range(count)])
    pre = preprocessor([BUSY])
    (gpu, ), _ = pre.augment(
        to_chw([image]).repeat(count, 1, 1, 1),
        torch.Generator().manual_seed(5))
    gpu = gpu.permute(0, 2, 3, 1).numpy()
    cpu_stats, gpu_stats = view_statistics(cpu), view_statistics(gpu)
    for name in cpu_stats:
        assert_same_distribution(cpu_stats[name], gpu_stats[name], name)


def test_spec_and_single_recipe_arguments_are_exclusive():
    with pytest.raises(ConfigError, match=r"not both: move \['num_views', "
                       r"'crop_size'\]"):
        preprocessor(SMALL_PATCH, num_views=3, crop_size=16)
    with pytest.raises(ConfigError,
                       match=r"data_preprocessor.views\[1\] lacks \['size'\]"):
        preprocessor([SMALL_PATCH[0], dict(name='patch', num_views=2)])


DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


@pytest.mark.parametrize('device', DEVICES)
def test_group_views_on_a_device_equal_the_cpu_views(device):
    """Blur and solarize give the same pixels on every device."""
    images = to_chw(sample_images(n=32, size=24))
    pre = preprocessor([BUSY] + SMALL_PATCH[1:]).to(device)
    views, params = pre.augment(images, torch.Generator().manual_seed(8))
    for view_params, view, augment in zip(
            params, views, [g[2] for g in pre.groups for _ in range(g[1])]):
        moved = ViewParams(*(getattr(view_params, f.name).to(device)
                             for f in dataclasses.fields(ViewParams)))
        on_device = augment.apply(images.to(device), moved)
        assert on_device.device.type == device
        assert torch.equal(on_device.cpu(), view)
    assert math.isclose(float(params[0].blur.float().mean()), 0.5, abs_tol=0.3)
