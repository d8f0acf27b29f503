"""MultiViewAugmentPreprocessor: views made on the device have the
distribution of the CPU pipeline (configs/_base_/datasets/cifar10_mocov2.py),
unit cases are exact, evaluation only normalises, and the GPU-aug configs
train.

Statistical tolerances. Every distribution test draws ``N = 4000`` views per
path with fixed seeds, so it is deterministic; the tolerances say how far
apart two correct implementations may land, so any seed passes:

* Distributions are compared with the two-sample Kolmogorov-Smirnov distance
  against its asymptotic critical value at ``alpha = 1e-4``,
  ``sqrt(ln(2 / alpha) / 2) * sqrt(2 / N)`` = 0.050 for N = 4000 (the test is
  conservative for the discrete values compared here). A crop scale range of
  (0.08, 1) instead of (0.2, 1) moves the area CDF by 0.13, a brightness
  range of +-0.5 instead of +-0.4 moves the factor CDF by 0.06: both fail.
* Rates (flip, greyscale) must lie within ``Z = 5`` binomial standard errors
  of the nominal probability (flip: 5 * sqrt(0.25 / 4000) = 0.040;
  greyscale: 0.032), and rates measured on both paths within 5 standard
  errors of their difference. Five standard errors are exceeded with
  probability 6e-7 per comparison, so the ~40 comparisons here fail
  spuriously with probability below 1e-4.
* Factor ranges: the extreme recovered factor must be within 0.02 of the
  range end: the recovery is quantised by at most 1/64, and ~3200 jittered
  draws leave a gap over 0.02 with probability (1 - 0.02 / 0.8)^3200 < 1e-35.
* Per-channel mean and standard deviation of the normalised views of real
  CIFAR-10 images (80 images x 40 views): the two paths see the same images,
  so their difference is a paired mean over images whose standard error
  comes from the within-image spread of the views; it must stay within 5
  standard errors.
"""
import colorsys
import copy
import dataclasses
import math
import random

import numpy as np
import pytest
import torch
from mmcv import adjust_brightness, adjust_color, adjust_contrast, adjust_hue
from mmcv.transforms import Compose, RandomGrayscale
from mmengine.config import Config
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.structures import DataSample

from conftest import REPO, run_tool
from mmseed.models.data_preprocessors import ViewParams
from mmseed.registry import DATASETS, MODELS
from mmseed.utils import register_all_modules
from test_pillow_ops import mmcv_resized_crop, sample_images

CPU_CFG = Config.fromfile(REPO / 'configs/_base_/datasets/cifar10_mocov2.py')
GPU_CFG = Config.fromfile(REPO / 'configs/_base_/datasets/cifar10_gpu_aug.py')
MOCO_GPU = 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10_gpu-aug.py'
SEED_GPU = 'configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10_gpu-aug.py'
N = 4000
Z = 5.0
KS_ALPHA = 1e-4


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Registries and one torch thread (faster on a shared machine)."""
    register_all_modules(init_default_scope=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----------------------------------------------------------------- helpers
def cpu_pipeline(**overrides) -> Compose:
    """cifar10_mocov2.py's view_pipeline, with the preprocessor's argument
    names overriding the matching transform arguments."""
    crop, jitter, gray, flip = copy.deepcopy(CPU_CFG.view_pipeline)
    color = jitter['transforms'][0]
    fields = {
        'crop_scale': (crop, 'crop_ratio_range'),
        'crop_ratio': (crop, 'aspect_ratio_range'),
        'jitter_prob': (jitter, 'prob'),
        'gray_prob': (gray, 'prob'),
        'flip_prob': (flip, 'prob'),
        **{k: (color, k)
           for k in ('brightness', 'contrast', 'saturation', 'hue')},
    }
    for key, value in overrides.items():
        step, field = fields[key]
        step[field] = value
    return Compose([crop, jitter, gray, flip])


def cpu_views(images, overrides, seed, views_per_image):
    """``views_per_image`` CPU-pipeline views of each BGR HWC image, view by
    view (view j of image i at ``j * len(images) + i``)."""
    pipeline = cpu_pipeline(**overrides)
    np.random.seed(seed)
    random.seed(seed)
    return np.stack([
        pipeline(dict(img=img.copy()))['img']
        for _ in range(views_per_image) for img in images
    ])


def preprocessor(**overrides):
    cfg = dict(GPU_CFG.gpu_aug_preprocessor, num_views=1)
    cfg.update(overrides)
    return MODELS.build(cfg)


def to_chw(images) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def gpu_views(images, overrides, seed, views_per_image, chunk=500):
    """The same views from the device path (on CPU here): BGR HWC uint8
    arrays, and the parameters drawn."""
    pre = preprocessor(**overrides)
    generator = torch.Generator().manual_seed(seed)
    batch = to_chw(images).repeat(views_per_image, 1, 1, 1)
    views, params = [], []
    for part in batch.split(chunk):
        (view, ), (param, ) = pre.augment(part, generator=generator)
        views.append(view)
        params.append(param)
    views = torch.cat(views).permute(0, 2, 3, 1).numpy()
    assert (views == views.round()).all() and views.min() >= 0 \
        and views.max() <= 255
    params = ViewParams(*(torch.cat([getattr(p, f.name) for p in params])
                          for f in dataclasses.fields(ViewParams)))
    return views.astype(np.uint8), params


def ks_distance(a, b) -> float:
    """Two-sample Kolmogorov-Smirnov distance."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side='right') / len(a)
    cdf_b = np.searchsorted(b, grid, side='right') / len(b)
    return float(np.abs(cdf_a - cdf_b).max())


def assert_same_distribution(cpu, gpu, what):
    n, m = len(cpu), len(gpu)
    bound = math.sqrt(math.log(2 / KS_ALPHA) / 2) * math.sqrt((n + m) /
                                                               (n * m))
    distance = ks_distance(cpu, gpu)
    assert distance < bound, (f'{what}: KS distance CPU vs device '
                              f'{distance:.4f} >= {bound:.4f}')


def assert_rate(hits, p, what):
    se = math.sqrt(p * (1 - p) / len(hits))
    assert abs(hits.mean() - p) < Z * se, \
        f'{what}: rate {hits.mean():.4f}, expected {p} +- {Z * se:.4f}'


def assert_same_rate(cpu, gpu, what):
    p = (cpu.mean() + gpu.mean()) / 2
    se = math.sqrt(max(p * (1 - p), 1e-12) * (1 / len(cpu) + 1 / len(gpu)))
    assert abs(cpu.mean() - gpu.mean()) < Z * se, \
        f'{what}: CPU {cpu.mean():.4f} vs device {gpu.mean():.4f}'


def constant_image(bgr) -> np.ndarray:
    return np.broadcast_to(np.array(bgr, np.uint8), (32, 32, 3)).copy()


def coordinate_image() -> np.ndarray:
    """B = 8x, G = 8y, R = 100: a view's crop box can be read back from the
    extreme values (Pillow's bilinear enlargement reproduces the crop's edge
    pixels exactly at the view's borders)."""
    y, x = np.mgrid[0:32, 0:32]
    return np.stack([8 * x, 8 * y, np.full_like(x, 100)], -1).astype(np.uint8)


def read_boxes(views):
    """Boxes (top, left, h, w) and flips of views of coordinate_image()."""
    x, y = views[..., 0].astype(int) // 8, views[..., 1].astype(int) // 8
    left, right = x.min((1, 2)), x.max((1, 2))
    top, bottom = y.min((1, 2)), y.max((1, 2))
    flipped = views[:, 0, 0, 0] > views[:, 0, -1, 0]
    return np.stack([top, left, bottom - top + 1, right - left + 1],
                    1), flipped


# ------------------------------------------------------------------ config
def test_gpu_aug_config_states_the_cpu_pipeline():
    crop, jitter, gray, flip = CPU_CFG.view_pipeline
    assert [t['type'] for t in CPU_CFG.view_pipeline] == [
        'RandomResizedCrop', 'RandomApply', 'RandomGrayscale', 'RandomFlip'
    ]
    color = jitter['transforms'][0]
    gpu = GPU_CFG.gpu_aug_preprocessor
    assert gpu['crop_size'] == crop['scale']
    assert tuple(gpu['crop_scale']) == tuple(crop['crop_ratio_range'])
    assert tuple(gpu['crop_ratio']) == tuple(
        crop.get('aspect_ratio_range', (3. / 4., 4. / 3.)))
    assert crop['backend'] == 'pillow' and color['type'] == 'ColorJitter'
    assert gpu['jitter_prob'] == jitter['prob']
    for key in ('brightness', 'contrast', 'saturation', 'hue'):
        assert gpu[key] == color[key]
    assert gpu['gray_prob'] == gray['prob'] and gray['keep_channels']
    assert tuple(gpu['gray_weights']) == tuple(gray['channel_weights'])
    assert gpu['flip_prob'] == flip['prob']
    normalise = CPU_CFG.data_preprocessor
    for key in ('mean', 'std', 'to_rgb'):
        assert gpu[key] == normalise[key]
    # The variants: MoCo takes two views, SEED one; only PackInputs on CPU.
    for path, views in ((MOCO_GPU, 2), (SEED_GPU, 1)):
        cfg = Config.fromfile(REPO / path)
        assert cfg.model.data_preprocessor.type == \
            'MultiViewAugmentPreprocessor'
        assert cfg.model.data_preprocessor.num_views == views
        dataset = cfg.train_dataloader.dataset
        assert dataset.type == 'InMemoryImageDataset'
        assert dataset.pipeline == [dict(type='PackInputs')]


# ------------------------------------------------------- distributions
def test_crop_and_flip_distributions_match_cpu():
    off = dict(jitter_prob=0.0, gray_prob=0.0)
    image = coordinate_image()
    cpu_boxes, cpu_flip = read_boxes(cpu_views([image], off, 0, N))
    views, params = gpu_views([image], off, 0, N)
    gpu_boxes, gpu_flip = read_boxes(views)
    # Reading back is exact: the device views show the boxes drawn.
    np.testing.assert_array_equal(gpu_boxes, params.boxes.numpy())
    np.testing.assert_array_equal(gpu_flip, params.flip.numpy())

    statistics = {
        'area fraction': lambda b: b[:, 2] * b[:, 3] / 1024,
        'log aspect ratio': lambda b: np.log(b[:, 3] / b[:, 2]),
        'top offset': lambda b: b[:, 0],
        'left offset': lambda b: b[:, 1],
    }
    for name, statistic in statistics.items():
        assert_same_distribution(
            statistic(cpu_boxes), statistic(gpu_boxes), name)
    for boxes in (cpu_boxes, gpu_boxes):
        area = statistics['area fraction'](boxes)
        ratio = boxes[:, 3] / boxes[:, 2]
        # Scale (0.2, 1) and ratio (3/4, 4/3), up to rounding of the sides.
        assert 0.18 < area.min() < 0.22 and area.max() == 1
        assert 0.68 < ratio.min() < 0.78 and 1.3 < ratio.max() < 1.47
    assert_rate(cpu_flip, 0.5, 'CPU flip')
    assert_rate(gpu_flip, 0.5, 'device flip')
    assert_same_rate(cpu_flip, gpu_flip, 'flip')


def hue_shift(views, original_bgr):
    rgb = views[:, 0, 0, ::-1] / 255
    hue = np.array([colorsys.rgb_to_hsv(*p)[0] for p in rgb])
    base = colorsys.rgb_to_hsv(*(np.array(original_bgr[::-1]) / 255))[0]
    return (hue - base + 0.5) % 1 - 0.5


COLOUR = (50, 100, 200)  # BGR: R 200, G 100, B 50; Pillow luma 124
FACTOR_CASES = {
    # name: (image, recovered factor, factor range)
    'brightness': (constant_image((128, 128, 128)),
                   lambda v: v[:, 0, 0, 0] / 128, (0.6, 1.4)),
    # Two grey halves 64 | 192 (luma mean 128), viewed whole.
    'contrast': (np.concatenate([constant_image((64, ) * 3)[:, :16],
                                 constant_image((192, ) * 3)[:, 16:]], 1),
                 lambda v: (v[..., 0].max((1, 2)) - v[..., 0].min(
                     (1, 2))) / 128, (0.6, 1.4)),
    # R - B = 150 scaled by the factor around the luma.
    'saturation': (constant_image(COLOUR),
                   lambda v: (v[:, 0, 0, 2].astype(int) - v[:, 0, 0, 0]) / 150,
                   (0.6, 1.4)),
    'hue': (constant_image(COLOUR), lambda v: hue_shift(v, COLOUR),
            (-0.1, 0.1)),
}


@pytest.mark.parametrize('name', list(FACTOR_CASES))
def test_colour_jitter_factor_distributions_match_cpu(name):
    """One jitter operation at a time (the others off, no greyscale), with
    the config's probability 0.8."""
    image, recover, (low, high) = FACTOR_CASES[name]
    overrides = {k: 0 for k in FACTOR_CASES if k != name}
    overrides.update(gray_prob=0.0, crop_scale=(1., 1.), crop_ratio=(1., 1.))
    cpu = cpu_views([image], overrides, 1, N)
    gpu, params = gpu_views([image], overrides, 1, N)
    cpu_factor, gpu_factor = recover(cpu), recover(gpu)
    assert_same_distribution(cpu_factor, gpu_factor, f'{name} factor')
    for path, factor in (('CPU', cpu_factor), ('device', gpu_factor)):
        assert abs(factor.min() - low) < 0.02, (path, factor.min())
        assert abs(factor.max() - high) < 0.02, (path, factor.max())
    unchanged = [(views == image).all((1, 2, 3)) for views in (cpu, gpu)]
    assert_same_rate(*unchanged, f'{name}: views left unchanged')
    assert_rate(params.jitter.numpy(), 0.8, 'jitter drawn')
    # The recovered factor is the one drawn, up to the uint8 quantisation.
    drawn = params.factors[:, list(FACTOR_CASES).index(name)].numpy()
    jittered = params.jitter.numpy()
    assert np.abs(gpu_factor[jittered] - drawn[jittered]).max() < 0.02


def test_greyscale_rate_and_colours_match_cpu():
    """The whole pipeline on one colour: greyscale rate, unchanged rate and
    the distribution of each output channel."""
    image = constant_image(COLOUR)
    cpu = cpu_views([image], {}, 2, N)
    gpu, params = gpu_views([image], {}, 2, N)
    grey = [(v[..., 0] == v[..., 1]).all((1, 2)) & (v[..., 1] == v[
        ..., 2]).all((1, 2)) for v in (cpu, gpu)]
    assert_rate(grey[0], 0.2, 'CPU greyscale')
    assert_rate(grey[1], 0.2, 'device greyscale')
    np.testing.assert_array_equal(grey[1], params.gray.numpy())
    unchanged = [(v == image).all((1, 2, 3)) for v in (cpu, gpu)]
    assert_same_rate(*unchanged, 'views left unchanged')
    for channel, name in enumerate('BGR'):
        assert_same_distribution(cpu[:, 0, 0, channel],
                                 gpu[:, 0, 0, channel], f'{name} value')


def test_jitter_order_is_a_uniform_permutation():
    generator = torch.Generator().manual_seed(3)
    params = preprocessor().view_augment.sample(24 * 200, 32, 32, generator)
    order = params.order.numpy()
    assert (np.sort(order, 1) == np.arange(4)).all()
    codes = (order * 4**np.arange(4)).sum(1)
    counts = np.unique(codes, return_counts=True)[1]
    assert len(counts) == 24
    p = 1 / 24
    se = math.sqrt(len(order) * p * (1 - p))
    assert np.abs(counts - len(order) * p).max() < Z * se


def test_normalised_views_of_real_images_match_cpu(cifar_slice):
    """Per-channel mean and std of the normalised views of real CIFAR-10
    images: CPU pipeline + SelfSupDataPreprocessor vs the preprocessor."""
    dataset = DATASETS.build(
        dict(type='InMemoryImageDataset', data_root=str(cifar_slice),
             data_prefix='train', pipeline=[]))
    images = [img.permute(1, 2, 0).numpy() for img in dataset.images]
    views_per_image = 40
    normalise = SelfSupDataPreprocessor(
        **{k: v for k, v in CPU_CFG.data_preprocessor.items() if k != 'type'})
    cpu = normalise(
        dict(inputs=[to_chw(cpu_views(images, {}, 4, views_per_image))],
             data_samples=None), False)['inputs'][0]
    pre = preprocessor()
    torch.manual_seed(4)
    gpu = torch.cat([
        pre(dict(inputs=to_chw(images)), True)['inputs'][0]
        for _ in range(views_per_image)
    ])
    n = len(images)
    for name, statistic in (('mean', lambda x: x.mean((2, 3))),
                            ('std', lambda x: x.std((2, 3)))):
        # (views, images, channels)
        cpu_stat = statistic(cpu).reshape(views_per_image, n, 3).double()
        gpu_stat = statistic(gpu).reshape(views_per_image, n, 3).double()
        diff = (gpu_stat.mean(0) - cpu_stat.mean(0)).mean(0)
        var = (cpu_stat.var(0) + gpu_stat.var(0)).sum(0) / views_per_image
        se = var.sqrt() / n
        assert (diff.abs() < Z * se).all(), \
            f'per-channel {name}: device - CPU = {diff}, 5 SE = {Z * se}'
        # The statistics are not degenerate: augmentation spreads them.
        assert (se > 1e-3).all()


# ------------------------------------------------------------- exactness
def cpu_apply(img, params, i, weights):
    """The CPU transforms' operations, run with the device's parameters."""
    out = mmcv_resized_crop(img, params.boxes[i].tolist(), (32, 32))
    if params.jitter[i]:
        factors = params.factors[i].tolist()
        for op in params.order[i].tolist():
            out = [
                lambda x: adjust_brightness(x, factors[0], 'pillow'),
                lambda x: adjust_contrast(x, factors[1], 'pillow'),
                lambda x: adjust_color(x, factors[2], backend='pillow'),
                lambda x: adjust_hue(x, factors[3], 'pillow'),
            ][op](out)
    if params.gray[i]:
        out = RandomGrayscale(prob=1., keep_channels=True,
                              channel_weights=weights)(dict(img=out))['img']
    if params.flip[i]:
        out = out[:, ::-1]
    return out


def test_views_equal_the_cpu_operations_with_the_same_parameters(
        cifar_slice):
    dataset = DATASETS.build(
        dict(type='InMemoryImageDataset', data_root=str(cifar_slice),
             data_prefix='train', pipeline=[]))
    images = np.concatenate([
        dataset.images.permute(0, 2, 3, 1).numpy(),
        sample_images(n=48, seed=5)
    ])
    views, params = gpu_views(list(images), {}, 5, 2)
    weights = GPU_CFG.gpu_aug_preprocessor['gray_weights']
    expected = np.stack([
        cpu_apply(images[i % len(images)], params, i, weights)
        for i in range(len(views))
    ])
    np.testing.assert_array_equal(views, expected)
    # Every operation and order occurred.
    assert params.jitter.any() and params.gray.any() and params.flip.any()


def hand_params(n, **changes) -> ViewParams:
    params = ViewParams(
        boxes=torch.tensor([[0, 0, 32, 32]] * n),
        jitter=torch.zeros(n, dtype=torch.bool),
        order=torch.arange(4).repeat(n, 1),
        factors=torch.tensor([[1., 1., 1., 0.]] * n, dtype=torch.float64),
        gray=torch.zeros(n, dtype=torch.bool),
        flip=torch.zeros(n, dtype=torch.bool))
    for key, value in changes.items():
        setattr(params, key, value)
    return params


def test_identity_parameters_give_the_normalised_input():
    images = to_chw(sample_images(n=8))
    pre = preprocessor()
    view = pre.view_augment.apply(images, hand_params(8))
    assert torch.equal(view, images.float())
    mean = torch.tensor(GPU_CFG.gpu_aug_preprocessor['mean']).view(3, 1, 1)
    std = torch.tensor(GPU_CFG.gpu_aug_preprocessor['std']).view(3, 1, 1)
    expected = (images[:, [2, 1, 0]].float() - mean) / std
    assert torch.allclose(pre.normalize([view])[0], expected, atol=1e-6)


def test_flip_parameters_give_the_mirrored_image():
    images = to_chw(sample_images(n=8))
    flip = hand_params(8, flip=torch.tensor([True, False] * 4))
    view = preprocessor().view_augment.apply(images, flip)
    assert torch.equal(view[0::2], images[0::2].flip(-1).float())
    assert torch.equal(view[1::2], images[1::2].float())


def test_eval_mode_only_normalises():
    images = to_chw(sample_images(n=8))
    samples = [DataSample() for _ in range(8)]
    reference = SelfSupDataPreprocessor(
        **{k: v for k, v in CPU_CFG.data_preprocessor.items() if k != 'type'})
    expected = reference(dict(inputs=images, data_samples=samples), False)
    for pre, training in ((preprocessor(), False),
                          (preprocessor(augment=False), True)):
        out = pre(dict(inputs=images, data_samples=samples), training)
        assert torch.equal(out['inputs'], expected['inputs'])
        assert len(out['data_samples']) == 8


def test_eval_mode_features_are_those_of_plain_normalised_images():
    """kNN feature extraction through the GPU-aug MoCo config's model."""
    cfg = Config.fromfile(REPO / MOCO_GPU)
    model = MODELS.build(cfg.model).eval()
    images = to_chw(sample_images(n=4))
    data = model.data_preprocessor(dict(inputs=images, data_samples=None),
                                   False)
    reference = SelfSupDataPreprocessor(
        **{k: v for k, v in CPU_CFG.data_preprocessor.items() if k != 'type'})
    plain = reference(dict(inputs=images, data_samples=None),
                      False)['inputs']
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])[-1]
        assert torch.equal(feats, model.extract_feat(plain)[-1])
    assert feats.shape[0] == 4


def test_training_gives_num_views_normalised_views():
    images = to_chw(sample_images(n=8))
    samples = [DataSample() for _ in range(8)]
    pre = preprocessor(num_views=3)
    torch.manual_seed(0)
    out = pre(dict(inputs=images, data_samples=samples), True)
    views = out['inputs']
    assert isinstance(views, list) and len(views) == 3
    mean = torch.tensor(GPU_CFG.gpu_aug_preprocessor['mean']).view(3, 1, 1)
    std = torch.tensor(GPU_CFG.gpu_aug_preprocessor['std']).view(3, 1, 1)
    for view in views:
        assert view.shape == (8, 3, 32, 32) and view.dtype == torch.float32
        # Normalised RGB: back on the 0-255 scale, integer pixel values.
        pixels = view * std + mean
        assert torch.allclose(pixels, pixels.round(), atol=1e-3)
        assert pixels.min() > -1e-3 and pixels.max() < 255 + 1e-3
    assert not torch.equal(views[0], views[1])
    assert len(out['data_samples']) == 8
    # A list holding the one view of a MultiView(num_views=1) pipeline works.
    torch.manual_seed(0)
    again = pre(dict(inputs=[images], data_samples=samples), True)['inputs']
    assert all(torch.equal(a, b) for a, b in zip(views, again))


DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


@pytest.mark.parametrize('device', DEVICES)
def test_views_on_a_device_equal_the_cpu_views(device):
    """The same parameters give the same pixels on every device (run on
    CUDA where there is one)."""
    images = to_chw(sample_images(n=64))
    pre = preprocessor(num_views=2).to(device)
    params = pre.view_augment.sample(64, 32, 32,
                                     torch.Generator().manual_seed(6))
    moved = ViewParams(*(getattr(params, f.name).to(device)
                         for f in dataclasses.fields(ViewParams)))
    views = pre.view_augment.apply(images.to(device), moved)
    assert views.device.type == device
    assert torch.equal(views.cpu(), pre.view_augment.apply(images, params))
    torch.manual_seed(0)
    out = pre(dict(inputs=images, data_samples=None), True)['inputs']
    assert len(out) == 2
    assert all(v.device.type == device and v.shape == (64, 3, 32, 32)
               for v in out)


def test_draws_are_reproducible():
    images = to_chw(sample_images(n=8))
    pre = preprocessor(num_views=2)

    def views(seed):
        return pre.augment(images, torch.Generator().manual_seed(seed))[0]

    assert all(torch.equal(a, b) for a, b in zip(views(1), views(1)))
    assert not torch.equal(views(1)[0], views(2)[0])
    # Default: follows torch's global seed (as mmengine and EpochSeedHook
    # set it).
    runs = []
    for _ in range(2):
        torch.manual_seed(7)
        runs.append(pre(dict(inputs=images), True)['inputs'])
    assert all(torch.equal(a, b) for a, b in zip(*runs))
    # A fixed seed gives one reproducible stream per preprocessor.
    first, second = preprocessor(seed=3), preprocessor(seed=3)
    assert torch.equal(first(dict(inputs=images), True)['inputs'][0],
                       second(dict(inputs=images), True)['inputs'][0])


def test_bad_inputs_and_settings_raise_clear_errors():
    images = to_chw(sample_images(n=2))
    pre = preprocessor()
    with pytest.raises(ValueError, match='got 2 views .*PackInputs'):
        pre(dict(inputs=[images, images]), True)
    with pytest.raises(ValueError, match='needs uint8 images, got '
                       'torch.float32'):
        pre(dict(inputs=images.float()), True)
    with pytest.raises(ValueError, match='N x 3 x H x W'):
        pre(dict(inputs=images[:, :1]), True)
    for bad in (dict(crop_scale=(0.5, 0.2)), dict(crop_ratio=(0., 1.)),
                dict(jitter_prob=1.5),
                dict(hue=0.7), dict(brightness=-0.1), dict(num_views=0),
                dict(gray_weights=(1., 1.))):
        with pytest.raises(ValueError, match=next(iter(bad))):
            preprocessor(**bad)


# ------------------------------------------------------------- training
def test_gpu_aug_configs_train_on_cifar_slice(cifar_slice, tmp_path):
    """A few iterations of each GPU-aug config on CPU: MoCo-v2, then SEED
    distilling from the MoCo checkpoint."""
    common = [
        '--no-validate', '--cfg-options',
        f'train_dataloader.dataset.data_root={cifar_slice}',
        'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', 'model.queue_len=64',
        'randomness.seed=0'
    ]
    env = dict(OMP_NUM_THREADS='1')
    moco = run_tool('tools/train.py', MOCO_GPU, '--work-dir',
                    tmp_path / 'moco', *common, env=env)
    log = moco.stdout + moco.stderr
    assert moco.returncode == 0, log[-3000:]
    assert 'InMemoryImageDataset: decoded 80 images of 32x32' in log
    losses = [float(line.split('loss: ')[1].split()[0])
              for line in log.splitlines() if 'Epoch(train)' in line]
    assert len(losses) == 5 and all(math.isfinite(x) for x in losses)
    teacher = tmp_path / 'moco' / 'epoch_1.pth'
    state = torch.load(teacher, map_location='cpu',
                       weights_only=False)['state_dict']
    assert state['queue'].shape == (128, 64)

    seed = run_tool('tools/train.py', SEED_GPU, '--work-dir',
                    tmp_path / 'seed', *common,
                    f'model.teacher.checkpoint={teacher}', env=env)
    log = seed.stdout + seed.stderr
    assert seed.returncode == 0, log[-3000:]
    assert 'loss_seed:' in log
    assert (tmp_path / 'seed' / 'epoch_1.pth').is_file()
