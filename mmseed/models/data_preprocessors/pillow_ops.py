"""Batched torch versions of the Pillow image operations that mmcv and
mmpretrain's CPU transforms call, uint8-exact.

Every function takes a batch ``(N, 3, H, W)`` of float images whose values are
integers in [0, 255] (what the CPU pipeline holds as ``uint8``) and returns one
of the same kind, with per-sample parameters as ``(N,)`` tensors, on any
device. Each reproduces the arithmetic of its Pillow counterpart, including
the rounding and truncation to ``uint8`` after every step, so that given the
same parameters it gives the same pixels as the CPU pipeline (up to ties that
a compiler's floating-point contraction may round differently):

- :func:`resized_crop`: ``mmcv.imcrop`` + ``Image.resize(BILINEAR)``
  (``Resample.c``: separable triangle filter, antialiased when shrinking,
  22-bit fixed-point coefficients, one pass per axis, each rounded to
  ``uint8``, in Pillow 13's order).
- :func:`adjust_brightness`, :func:`adjust_contrast`,
  :func:`adjust_saturation`: ``ImageEnhance.Brightness`` / ``Contrast`` /
  ``Color`` (a ``Image.blend`` with a black, mean-grey or greyscale image:
  ``Blend.c`` computes in float32 and truncates).
- :func:`adjust_hue`: ``mmcv.adjust_hue(backend='pillow')`` (Pillow's 8-bit
  HSV round trip, ``Convert.c`` ``rgb2hsv``/``hsv2rgb``, with the hue shifted
  by ``uint8(hue * 255)`` modulo 256).
- :func:`grayscale`: mmcv's ``RandomGrayscale`` (float64 weighted sum in
  channel order, truncated).
- :func:`gaussian_blur`: ``ImageFilter.GaussianBlur(sigma)``, as
  mmpretrain's ``GaussianBlur`` calls it (``BoxBlur.c``: three extended box
  blur passes per axis, horizontal first, edges repeated, 24-bit fixed-point
  weights, each pass rounded to ``uint8``; the box radius computed in
  float32 as Pillow's ``_gaussian_blur_radius``).
- :func:`solarize`: ``mmcv.solarize`` (mmpretrain's ``Solarize``): values at
  or above the threshold become ``255 - v``.

``channel_order`` names the order of the three channels (``'bgr'`` for images
as ``mmcv.imread`` loads them, which is what the CPU pipeline works on).
"""
import math
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = [
    'rgb_index', 'resized_crop', 'blend', 'luma', 'adjust_brightness',
    'adjust_contrast', 'adjust_saturation', 'adjust_hue', 'grayscale',
    'box_blur_radius', 'gaussian_blur', 'solarize', 'hflip'
]

# Pillow's Resample.c: 32 - 8 - 2 fractional bits for 8-bit images.
_PRECISION_BITS = 22


def rgb_index(channel_order: str) -> Tuple[int, int, int]:
    """Positions of R, G and B in a batch of the given channel order."""
    if channel_order == 'rgb':
        return 0, 1, 2
    if channel_order == 'bgr':
        return 2, 1, 0
    raise ValueError(f"channel_order must be 'rgb' or 'bgr', "
                     f'got {channel_order!r}')


def _resample_coeffs(length: Tensor, start: Tensor, in_size: int,
                     out_size: int) -> Tuple[Tensor, Tensor]:
    """Pillow's bilinear resampling taps for one axis, per sample.

    Mirrors ``precompute_coeffs`` and ``normalize_coeffs_8bpc`` of Pillow's
    ``Resample.c`` for a crop ``[start, start + length)`` resized to
    ``out_size``.

    Args:
        length (Tensor): Crop lengths, ``(N,)`` integers.
        start (Tensor): Crop starts, ``(N,)`` integers.
        in_size (int): Image size along the axis (bounds every crop).
        out_size (int): Output size along the axis.

    Returns:
        tuple[Tensor, Tensor]: Source indices ``(N, out_size, K)`` (long)
        and fixed-point weights ``(N, out_size, K)`` (int64, summing to about
        ``2**22``); unused taps have weight 0.
    """
    device = length.device
    length = length.to(torch.float64)
    scale = length / out_size
    filterscale = scale.clamp(min=1.0)
    support = filterscale  # the triangle filter's support is 1
    # Enough taps for the largest possible crop, so no device sync is needed.
    taps = 2 * int(math.ceil(max(in_size / out_size, 1.0))) + 1
    out_pos = torch.arange(out_size, dtype=torch.float64, device=device)
    center = (out_pos + 0.5)[None] * scale[:, None]
    first = torch.floor(center - support[:, None] + 0.5).clamp(min=0)
    last = torch.minimum(
        torch.floor(center + support[:, None] + 0.5), length[:, None])
    count = last - first
    tap = torch.arange(taps, dtype=torch.float64, device=device)
    pos = first[..., None] + tap
    x = ((pos - center[..., None]) + 0.5) * (1.0 / filterscale)[:, None, None]
    weight = (1.0 - x.abs()).clamp(min=0)
    weight = torch.where(tap < count[..., None], weight, 0.0)
    total = weight[..., 0]
    for k in range(1, taps):  # Pillow sums the taps in order
        total = total + weight[..., k]
    total = total[..., None]
    weight = torch.where(total != 0,
                         weight / torch.where(total != 0, total, 1.0), weight)
    fixed = torch.floor(0.5 + weight * (1 << _PRECISION_BITS)).long()
    index = (pos + start.to(torch.float64)[:, None, None]).long()
    return index.clamp(max=in_size - 1), fixed


def _resample_last_axis(images: Tensor, index: Tensor,
                        weight: Tensor) -> Tensor:
    """One Pillow 8-bit resampling pass along the last axis."""
    n, c, h, _ = images.shape
    _, out, taps = index.shape
    gathered = images.gather(
        3, index.reshape(n, 1, 1, out * taps).expand(n, c, h, out * taps))
    acc = (gathered.reshape(n, c, h, out, taps) *
           weight[:, None, None]).sum(-1)
    acc = acc + (1 << (_PRECISION_BITS - 1))
    return (acc >> _PRECISION_BITS).clamp(0, 255)


def resized_crop(images: Tensor, boxes: Tensor,
                 size: Tuple[int, int]) -> Tensor:
    """Crop each image to its box and resize it like Pillow's bilinear.

    Args:
        images (Tensor): ``(N, C, H, W)`` integer-valued images.
        boxes (Tensor): ``(N, 4)`` integer boxes ``(top, left, height,
            width)`` inside the images.
        size (tuple[int, int]): Output ``(height, width)``.

    Returns:
        Tensor: ``(N, C, size[0], size[1])`` float32 integer-valued images.
    """
    top, left, height, width = boxes.long().unbind(1)
    x_index, x_weight = _resample_coeffs(width, left, images.shape[3],
                                         size[1])
    y_index, y_weight = _resample_coeffs(height, top, images.shape[2],
                                         size[0])
    images = images.long()

    def horizontal(x):
        return _resample_last_axis(x, x_index, x_weight)

    def vertical(x):
        return _resample_last_axis(x.transpose(2, 3), y_index,
                                   y_weight).transpose(2, 3)

    out = vertical(horizontal(images))
    if images.shape[2] > size[0]:
        # Pillow >= 13 runs the vertical pass first when the height shrinks
        # by more than twice as many pixels as the width (Resample.c,
        # ImagingResampleInner); the order changes the intermediate rounding.
        shrink_h = height - size[0]
        first = (shrink_h > 0) & (shrink_h > 2 * (width - size[1]))
        out = torch.where(first[:, None, None, None],
                          horizontal(vertical(images)), out)
    return out.to(torch.float32).contiguous()


def _per_sample(factor: Tensor, dtype: torch.dtype) -> Tensor:
    """``(N,)`` parameters shaped to broadcast over ``(N, C, H, W)``."""
    return factor.to(dtype).reshape(-1, 1, 1, 1)


def blend(degenerate: Tensor, images: Tensor, factor: Tensor) -> Tensor:
    """``Image.blend(degenerate, images, factor)`` for 8-bit images.

    ``degenerate + factor * (images - degenerate)`` in float32, truncated
    toward zero and clipped to [0, 255], as Pillow's ``Blend.c``.

    Args:
        degenerate (Tensor): Image blended from, broadcastable to ``images``.
        images (Tensor): ``(N, C, H, W)`` integer-valued images.
        factor (Tensor): ``(N,)`` blend factors (used as float32).

    Returns:
        Tensor: The blended float32 integer-valued images.
    """
    alpha = _per_sample(factor, torch.float32)
    degenerate = degenerate.to(torch.float32)
    out = degenerate + alpha * (images.to(torch.float32) - degenerate)
    return torch.trunc(out).clamp(0, 255)


def luma(images: Tensor, channel_order: str = 'rgb') -> Tensor:
    """Pillow's ``convert('L')``: ``(19595 R + 38470 G + 7471 B + 2**15)
    >> 16`` (ITU-R 601-2 in 16-bit fixed point).

    Args:
        images (Tensor): ``(N, 3, H, W)`` integer-valued images.
        channel_order (str): ``'rgb'`` or ``'bgr'``.

    Returns:
        Tensor: ``(N, 1, H, W)`` int64 luma.
    """
    r, g, b = (images[:, i].long() for i in rgb_index(channel_order))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)[:, None]


def adjust_brightness(images: Tensor, factor: Tensor) -> Tensor:
    """``ImageEnhance.Brightness(img).enhance(factor)``, per sample."""
    return blend(torch.zeros((), device=images.device), images, factor)


def adjust_contrast(images: Tensor, factor: Tensor,
                    channel_order: str = 'rgb') -> Tensor:
    """``ImageEnhance.Contrast(img).enhance(factor)``, per sample.

    Blends with a grey image at the luma mean rounded half up
    (``int(mean + 0.5)``, computed exactly in integers).
    """
    gray = luma(images, channel_order)
    total = gray.sum(dim=(1, 2, 3))
    count = gray.shape[2] * gray.shape[3]
    mean = torch.div(2 * total + count, 2 * count, rounding_mode='floor')
    return blend(_per_sample(mean, torch.float32), images, factor)


def adjust_saturation(images: Tensor, factor: Tensor,
                      channel_order: str = 'rgb') -> Tensor:
    """``ImageEnhance.Color(img).enhance(factor)``, per sample: a blend
    with the image's own luma."""
    return blend(luma(images, channel_order), images, factor)


def _round_half_up(x: Tensor) -> Tensor:
    """C's ``round`` for non-negative values (halves away from zero)."""
    down = torch.floor(x)
    return down + ((x - down) >= 0.5).to(x.dtype)


def _rgb_to_hsv(r: Tensor, g: Tensor, b: Tensor) -> Tuple[Tensor, ...]:
    """Pillow's ``rgb2hsv_row`` (Convert.c) with its float/double steps."""
    maxc = torch.maximum(r, torch.maximum(g, b))
    minc = torch.minimum(r, torch.minimum(g, b))
    span = maxc - minc
    flat = span == 0
    safe_span = torch.where(flat, 1.0, span)
    sat = span / torch.where(maxc == 0, 1.0, maxc)
    rc, gc, bc = ((maxc - c) / safe_span for c in (r, g, b))
    hue = torch.where(
        r == maxc, bc - gc,
        torch.where(g == maxc, (2.0 + rc.double() - bc.double()).float(),
                    (4.0 + gc.double() - rc.double()).float()))
    hue = torch.fmod(hue.double() / 6.0 + 1.0, 1.0).float()
    uh = torch.trunc(hue.double() * 255.0).clamp(0, 255)
    us = torch.trunc(sat.double() * 255.0).clamp(0, 255)
    return (torch.where(flat, 0.0, uh), torch.where(flat, 0.0, us),
            maxc.double())


def _hsv_to_rgb(h: Tensor, s: Tensor, v: Tensor) -> Tuple[Tensor, ...]:
    """Pillow's ``hsv2rgb`` (Convert.c) with its float/double steps."""
    sector = torch.floor(h * 6.0 / 255.0)
    frac = (h * 6.0 / 255.0 - sector).float()
    fs = (s / 255.0).float()
    p = _round_half_up(v * (1.0 - fs.double())).clamp(0, 255)
    q = _round_half_up(v * (1.0 - (fs * frac).double())).clamp(0, 255)
    t = _round_half_up(v * (1.0 - fs.double() *
                            (1.0 - frac.double()))).clamp(0, 255)
    sector = torch.remainder(sector, 6)
    # Sectors 0..5 give (v,t,p), (q,v,p), (p,v,t), (p,q,v), (t,p,v), (v,p,q).
    table = {
        0: (v, t, p),
        1: (q, v, p),
        2: (p, v, t),
        3: (p, q, v),
        4: (t, p, v),
        5: (v, p, q)
    }
    out = []
    for channel in range(3):
        value = table[5][channel]
        for sec in range(4, -1, -1):
            value = torch.where(sector == sec, table[sec][channel], value)
        out.append(torch.where(s == 0, v, value))
    return tuple(out)


def adjust_hue(images: Tensor, factor: Tensor,
               channel_order: str = 'rgb') -> Tensor:
    """``mmcv.adjust_hue(img, factor, backend='pillow')``, per sample.

    Converts to Pillow's 8-bit HSV, adds ``numpy.uint8(factor * 255)`` (the
    truncated shift, wrapping modulo 256) to the hue and converts back.

    Args:
        images (Tensor): ``(N, 3, H, W)`` integer-valued images.
        factor (Tensor): ``(N,)`` hue shifts in [-0.5, 0.5] turns.
        channel_order (str): ``'rgb'`` or ``'bgr'``.

    Returns:
        Tensor: float32 integer-valued images.
    """
    index = rgb_index(channel_order)
    r, g, b = (images[:, i].to(torch.float32) for i in index)
    h, s, v = _rgb_to_hsv(r, g, b)
    shift = torch.trunc(factor.to(torch.float64) * 255).reshape(-1, 1, 1)
    h = torch.remainder(h + shift, 256)
    rgb = _hsv_to_rgb(h, s, v)
    out = [None] * 3
    for position, value in zip(index, rgb):
        out[position] = value
    return torch.stack(out, dim=1).to(torch.float32)


def grayscale(images: Tensor, weights: Sequence[float]) -> Tensor:
    """mmcv's ``RandomGrayscale`` conversion with ``keep_channels=True``.

    Args:
        images (Tensor): ``(N, C, H, W)`` integer-valued images.
        weights (Sequence[float]): One weight per channel, in the images'
            channel order; normalised to sum to 1 as mmcv does.

    Returns:
        Tensor: float32 images whose channels all hold the truncated
        weighted sum.
    """
    if len(weights) != images.shape[1]:
        raise ValueError(f'grayscale needs one weight per channel: got '
                         f'{len(weights)} weights for {images.shape[1]} '
                         'channels')
    total = sum(weights)
    gray = None
    for channel, weight in enumerate(weights):
        term = (weight / total) * images[:, channel].double()
        gray = term if gray is None else gray + term
    gray = torch.trunc(gray).to(torch.float32)
    return gray[:, None].expand_as(images).contiguous()


# Pillow's ImageFilter.GaussianBlur: three box passes per axis (BoxBlur.c,
# after Gwosdek et al., 2011, "Theoretical foundations of Gaussian
# convolution by extended box filtering").
_BLUR_PASSES = 3
# BoxBlur.c's fixed point: weights sum to 2**24.
_BOX_BITS = 24


def box_blur_radius(sigma: Tensor) -> Tensor:
    """The extended box radius Pillow uses for a Gaussian of std ``sigma``.

    Pillow's ``_gaussian_blur_radius`` (``BoxBlur.c``) in its float32 /
    double steps: ``sigma2 = sigma**2 / passes``, box length
    ``L = sqrt(12 sigma2 + 1)``, integer radius ``l = floor((L - 1) / 2)`` and
    the fractional part ``a`` that matches the variance.

    Args:
        sigma (Tensor): ``(N,)`` standard deviations (used as float32, as
            Pillow parses the radius).

    Returns:
        Tensor: ``(N,)`` float32 box radii ``l + a``.
    """
    sigma = sigma.to(torch.float32)
    sigma2 = sigma * sigma / _BLUR_PASSES
    length = torch.sqrt(12.0 * sigma2.double() + 1.0).float()
    whole = torch.floor((length.double() - 1.0) / 2.0).float()
    frac = (2 * whole + 1) * (whole * (whole + 1) - 3 * sigma2)
    frac = frac / (6 * (sigma2 - (whole + 1) * (whole + 1)))
    return whole + frac


def _box_blur_last_axis(images: Tensor, radius: Tensor, full: Tensor,
                        edge: Tensor, pad: int) -> Tensor:
    """One ``ImagingHorizontalBoxBlur`` pass on int64 images.

    Output ``x`` is ``(full * sum(in[x - r .. x + r]) + edge * (in[x - r - 1]
    + in[x + r + 1]) + 2**23) >> 24`` with indices clamped to the image
    (Pillow repeats the edge pixels), ``r`` the integer radius.
    """
    n, c, h, w = images.shape
    padded = torch.cat([
        images[..., :1].expand(n, c, h, pad), images,
        images[..., -1:].expand(n, c, h, pad)
    ], -1)
    csum = torch.nn.functional.pad(padded.cumsum(-1), (1, 0))
    pos = torch.arange(w, device=images.device)[None] + pad
    r = radius[:, None]

    def take(source, index):
        return source.gather(-1, index[:, None, None].expand(n, c, h, w))

    window = take(csum, pos + r + 1) - take(csum, pos - r)
    edges = take(padded, pos - r - 1) + take(padded, pos + r + 1)
    shape = (-1, 1, 1, 1)
    acc = window * full.reshape(shape) + edges * edge.reshape(shape)
    return (acc + (1 << (_BOX_BITS - 1))) >> _BOX_BITS


def gaussian_blur(images: Tensor,
                  sigma: Tensor,
                  max_sigma: Optional[float] = None) -> Tensor:
    """``img.filter(ImageFilter.GaussianBlur(sigma))``, per sample.

    Pillow approximates the Gaussian with three extended box filters per
    axis (all horizontal passes, then all vertical ones), each pass rounded
    to ``uint8``; this runs the same integer arithmetic on the whole batch
    (window sums from cumulative sums, so any radius costs the same).

    Args:
        images (Tensor): ``(N, C, H, W)`` integer-valued images.
        sigma (Tensor): ``(N,)`` standard deviations, > 0.
        max_sigma (float, optional): An upper bound of ``sigma`` that sizes
            the edge padding without reading ``sigma`` back from the device.
            Defaults to ``sigma.max()``.

    Returns:
        Tensor: float32 integer-valued blurred images.
    """
    radius = box_blur_radius(sigma)
    whole = torch.trunc(radius).long()
    # ImagingHorizontalBoxBlur: ww = (UINT32)(2**24 / (2 r + 1)) in float32,
    # fw = (2**24 - (2 l + 1) ww) / 2 in integers.
    unit = torch.tensor(float(1 << _BOX_BITS), device=images.device)
    full = torch.trunc(unit / (radius * 2 + 1)).long()
    edge = torch.div((1 << _BOX_BITS) - (whole * 2 + 1) * full, 2,
                     rounding_mode='floor')
    if max_sigma is None:
        max_sigma = float(sigma.max())
    pad = int(math.floor(max_sigma)) + 2  # the radius is below sigma
    out = images.long()
    for _ in range(_BLUR_PASSES):
        out = _box_blur_last_axis(out, whole, full, edge, pad)
    out = out.transpose(2, 3)
    for _ in range(_BLUR_PASSES):
        out = _box_blur_last_axis(out, whole, full, edge, pad)
    return out.transpose(2, 3).to(torch.float32).contiguous()


def solarize(images: Tensor, threshold: float = 128) -> Tensor:
    """``mmcv.solarize(img, thr)``: ``v < thr ? v : 255 - v``.

    Args:
        images (Tensor): integer-valued images.
        threshold (float): The threshold. Defaults to 128.

    Returns:
        Tensor: float32 integer-valued images.
    """
    images = images.to(torch.float32)
    return torch.where(images < threshold, images, 255 - images)


def hflip(images: Tensor) -> Tensor:
    """Mirror images left to right (mmcv ``RandomFlip``, horizontal)."""
    return images.flip(-1)
