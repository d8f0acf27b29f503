"""The batched torch image operations give the pixels of the Pillow / mmcv
functions that the CPU pipeline calls, exactly."""
import numpy as np
import PIL
import pytest
import torch
from mmcv import adjust_brightness, adjust_color, adjust_contrast, adjust_hue
from mmcv import imcrop, imresize
from mmcv.transforms import RandomGrayscale
from mmpretrain.datasets.transforms import GaussianBlur, Solarize

from mmseed.models.data_preprocessors import pillow_ops


def sample_images(n=48, size=32, seed=0):
    """Random BGR images (HWC uint8) with grey, flat and saturated parts."""
    rng = np.random.RandomState(seed)
    images = rng.randint(0, 256, (n, size, size, 3)).astype(np.uint8)
    images[:6] = images[:6, :, :, :1]  # grey (R = G = B)
    images[6:12, :size // 2] = (20, 200, 90)  # flat colour blocks
    images[12:18] = np.clip(images[12:18].astype(int) * 3 - 200, 0, 255)
    images[18:24] //= 8  # dark
    return images


def to_batch(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float()


def to_hwc(batch: torch.Tensor) -> np.ndarray:
    return batch.permute(0, 2, 3, 1).numpy().astype(np.uint8)


def random_boxes(rng, n, size):
    boxes = []
    for _ in range(n):
        h, w = rng.randint(1, size + 1, 2)
        boxes.append((rng.randint(0, size - h + 1),
                      rng.randint(0, size - w + 1), h, w))
    return boxes


def mmcv_resized_crop(img, box, out_hw):
    top, left, h, w = box
    patch = imcrop(img, np.array([left, top, left + w - 1, top + h - 1]))
    return imresize(patch, out_hw[::-1], interpolation='bilinear',
                    backend='pillow')


def test_resized_crop_upscaling_is_pillow_exact():
    """The CIFAR case: crops of at most the output size, enlarged."""
    rng = np.random.RandomState(1)
    images = sample_images()
    boxes = random_boxes(rng, len(images), 32)
    expected = np.stack([mmcv_resized_crop(img, box, (32, 32))
                         for img, box in zip(images, boxes)])
    out = pillow_ops.resized_crop(to_batch(images), torch.tensor(boxes),
                                  (32, 32))
    np.testing.assert_array_equal(to_hwc(out), expected)


def test_resized_crop_shrinking_and_non_square_is_pillow_exact():
    """Antialiased shrinking, mixed with enlarging on the other axis."""
    rng = np.random.RandomState(2)
    images = sample_images()
    boxes = random_boxes(rng, len(images), 32)
    expected = np.stack([mmcv_resized_crop(img, box, (20, 13))
                         for img, box in zip(images, boxes)])
    out = to_hwc(pillow_ops.resized_crop(to_batch(images),
                                         torch.tensor(boxes), (20, 13)))
    if int(PIL.__version__.split('.')[0]) >= 13:
        np.testing.assert_array_equal(out, expected)
    else:  # older Pillow always resizes horizontally first: off by <= 1
        assert np.abs(out.astype(int) - expected).max() <= 1


@pytest.mark.parametrize('name', ['brightness', 'contrast', 'saturation'])
def test_enhance_operations_are_pillow_exact(name):
    images = sample_images()
    factors = np.random.RandomState(3).uniform(0.0, 2.0, len(images))
    factors[:3] = (0.0, 1.0, 1.4)
    reference = {
        'brightness': lambda img, f: adjust_brightness(img, f, 'pillow'),
        'contrast': lambda img, f: adjust_contrast(img, f, 'pillow'),
        'saturation': lambda img, f: adjust_color(img, f, backend='pillow'),
    }[name]
    ours = {
        'brightness': lambda x, f: pillow_ops.adjust_brightness(x, f),
        'contrast': lambda x, f: pillow_ops.adjust_contrast(x, f, 'bgr'),
        'saturation': lambda x, f: pillow_ops.adjust_saturation(x, f, 'bgr'),
    }[name]
    expected = np.stack([reference(img, f) for img, f in zip(images, factors)])
    out = ours(to_batch(images), torch.from_numpy(factors))
    np.testing.assert_array_equal(to_hwc(out), expected)


def test_hue_is_mmcv_pillow_exact():
    images = sample_images()
    factors = np.random.RandomState(4).uniform(-0.5, 0.5, len(images))
    factors[:4] = (0.0, -0.5, 0.5, -0.003)  # -0.003 * 255 truncates to 0
    expected = np.stack(
        [adjust_hue(img, f, 'pillow') for img, f in zip(images, factors)])
    out = pillow_ops.adjust_hue(to_batch(images), torch.from_numpy(factors),
                                'bgr')
    np.testing.assert_array_equal(to_hwc(out), expected)


def test_channel_order_names_where_red_is():
    """An RGB batch gives the same pixels, channel-swapped, as a BGR one."""
    images = sample_images(n=8)
    bgr = to_batch(images)
    rgb = bgr[:, [2, 1, 0]]
    shift = torch.linspace(-0.4, 0.4, 8)
    for op, factors in ((pillow_ops.adjust_hue, shift),
                        (pillow_ops.adjust_contrast, 1 + shift),
                        (pillow_ops.adjust_saturation, 1 + shift)):
        assert torch.equal(
            op(rgb, factors, 'rgb')[:, [2, 1, 0]], op(bgr, factors, 'bgr'))
    with pytest.raises(ValueError, match="'rgb' or 'bgr'"):
        pillow_ops.adjust_hue(bgr, shift, 'hsv')


def test_grayscale_is_mmcv_random_grayscale_exact():
    images = sample_images()
    weights = (0.114, 0.587, 0.2989)  # BGR, as cifar10_mocov2.py
    gray = RandomGrayscale(prob=1.0, keep_channels=True,
                           channel_weights=weights)
    expected = np.stack([gray(dict(img=img.copy()))['img'] for img in images])
    out = pillow_ops.grayscale(to_batch(images), weights)
    np.testing.assert_array_equal(to_hwc(out), expected)
    # Grey pixels stay grey, except that some v come out as v - 1: the
    # normalised weights' float sum falls just short of v, and both paths
    # truncate.
    drop = images[:6].astype(int) - to_hwc(out)[:6]
    assert set(np.unique(drop)) == {0, 1}


def test_luma_is_pillow_convert_l():
    images = sample_images(n=8)
    expected = np.stack([
        np.array(PIL.Image.fromarray(img[..., ::-1]).convert('L'))
        for img in images
    ])
    out = pillow_ops.luma(to_batch(images), 'bgr')[:, 0].numpy()
    np.testing.assert_array_equal(out, expected)


def mmpretrain_blur(img, sigma):
    """mmpretrain's GaussianBlur (Pillow's ImageFilter.GaussianBlur) with a
    given sigma."""
    blur = GaussianBlur(radius=float(sigma), prob=1.)
    return blur(dict(img=img.copy()))['img']


def test_gaussian_blur_matches_mmpretrain():
    """Pillow's three-pass extended box blur in the same integer arithmetic.
    Only the float32 box radius could round differently (a compiler fusing
    its multiply-adds), moving a pixel by 1: the tolerance allows that, and
    on this machine the views are equal."""
    rng = np.random.RandomState(6)
    cases = [(sample_images(n=48), rng.uniform(0.1, 2.0, 48))]
    # Every size the edge handling distinguishes, down to one pixel.
    for size in ((1, 1), (2, 3), (5, 7), (13, 4)):
        cases.append((rng.randint(0, 256, (8, *size, 3)).astype(np.uint8),
                      rng.uniform(0.1, 2.0, 8)))
    # A dense grid of sigmas over the configs' range (0.1, 2.0).
    sigmas = np.linspace(0.1, 2.0, 400)
    cases.append((rng.randint(0, 256, (400, 6, 9, 3)).astype(np.uint8),
                  sigmas))
    differ = total = 0
    for images, sigma in cases:
        sigma[:2] = (0.1, 2.0)
        expected = np.stack(
            [mmpretrain_blur(img, s) for img, s in zip(images, sigma)])
        out = to_hwc(pillow_ops.gaussian_blur(
            to_batch(images), torch.from_numpy(sigma), max_sigma=2.0))
        gap = np.abs(out.astype(int) - expected)
        assert gap.max() <= 1
        differ += int((gap > 0).sum())
        total += gap.size
    assert differ <= total * 1e-4, f'{differ} of {total} pixels differ'
    # Blurring smooths: flat images stay flat, noise loses contrast.
    flat = np.full((2, 8, 8, 3), 77, np.uint8)
    assert (to_hwc(pillow_ops.gaussian_blur(
        to_batch(flat), torch.tensor([0.5, 2.0]))) == 77).all()


def test_box_blur_radius_is_pillows():
    """Pillow's _gaussian_blur_radius: the box variance matches sigma."""
    sigma = torch.linspace(0.1, 2.0, 50)
    radius = pillow_ops.box_blur_radius(sigma).double()
    whole, frac = radius.floor(), radius - radius.floor()
    # Variance of the three-pass extended box of radius l + a (Gwosdek et
    # al., 2011, eq. 13), per pass.
    variance = ((2 * whole + 1) * whole * (whole + 1) / 3 + 2 * frac *
                (whole + 1)**2) / (2 * whole + 1 + 2 * frac)
    assert torch.allclose(3 * variance, sigma.double()**2, rtol=1e-5)
    assert (radius < sigma).all()


def test_solarize_is_mmpretrain_exact():
    images = sample_images()
    images[0, :4, :4] = [[0, 127, 128], [255, 1, 129], [126, 200, 64],
                         [254, 128, 127]]
    solarize = Solarize(thr=128, prob=1.)
    expected = np.stack(
        [solarize(dict(img=img.copy()))['img'] for img in images])
    out = pillow_ops.solarize(to_batch(images), 128)
    np.testing.assert_array_equal(to_hwc(out), expected)
    # At or above 128, v becomes 255 - v.
    assert to_hwc(out)[0, 0, :2].tolist() == [[0, 127, 127], [0, 1, 126]]
