"""One augmented view per image, sampled and applied on the batch's device.

:class:`ViewAugment` reproduces the MoCo-v2 / SimCLR / DINO view pipeline of
mmpretrain and mmcv transforms (``RandomResizedCrop(backend='pillow')`` ->
``RandomApply([ColorJitter], p)`` -> ``RandomGrayscale`` -> ``GaussianBlur``
-> ``Solarize`` -> ``RandomFlip``, blur and solarize optional) on a whole
batch at once: the random parameters are drawn per sample from the
same distributions as the CPU transforms draw them (see
:meth:`ViewAugment.sample`), and applied with the uint8-exact Pillow
operations of :mod:`.pillow_ops`. Horizontal flipping commutes with the
colour operations, the (symmetric) blur and solarizing, so pipelines that
flip before the colour jitter (the SimCLR and DINO ones) are covered too.
"""
import math
from dataclasses import dataclass
from numbers import Number
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from mmseed.errors import ConfigError

from . import pillow_ops

__all__ = ['ViewParams', 'ViewAugment']

Range = Union[float, Sequence[float]]


@dataclass
class ViewParams:
    """The random parameters of one view of every image in a batch.

    Attributes:
        boxes (Tensor): ``(N, 4)`` crop boxes ``(top, left, height, width)``.
        jitter (Tensor): ``(N,)`` bool, colour jitter applied.
        order (Tensor): ``(N, 4)`` the order in which the jitter operations
            run, a permutation of 0 brightness, 1 contrast, 2 saturation,
            3 hue.
        factors (Tensor): ``(N, 4)`` float64 brightness, contrast and
            saturation factors and hue shift (meaningful where ``jitter``).
        gray (Tensor): ``(N,)`` bool, converted to greyscale.
        flip (Tensor): ``(N,)`` bool, flipped horizontally.
        blur (Tensor, optional): ``(N,)`` bool, Gaussian-blurred (None: no
            blur).
        sigma (Tensor, optional): ``(N,)`` float64 blur standard deviations
            (meaningful where ``blur``).
        solarize (Tensor, optional): ``(N,)`` bool, solarized (None: not).
    """
    boxes: Tensor
    jitter: Tensor
    order: Tensor
    factors: Tensor
    gray: Tensor
    flip: Tensor
    blur: Optional[Tensor] = None
    sigma: Optional[Tensor] = None
    solarize: Optional[Tensor] = None


def _jitter_range(value: Optional[Range], name: str, center: float,
                  bound: Tuple[float, float]) -> Optional[Tuple[float, float]]:
    """The factor range of one jitter operation, as mmpretrain's
    ``ColorJitter`` sets it: ``v`` means ``[center - v, center + v]``
    (clipped at ``bound``); ``None``, 0 or ``(center, center)`` disable it."""
    if value is None:
        return None
    if isinstance(value, Number):
        if value < 0:
            raise ConfigError(f'{name} must be non-negative, got {value}')
        value = (max(center - value, bound[0]), center + value)
    if len(value) != 2 or not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ConfigError(f'{name} must be a number or a (min, max) range '
                          f'inside {bound}, got {value}')
    if value[0] == value[1] == center:
        return None
    return float(value[0]), float(value[1])


class ViewAugment:
    """Samples and applies one augmented view per image of a batch.

    Args:
        size (int | tuple[int, int]): Output size of the crop (``scale`` of
            ``RandomResizedCrop``).
        crop_scale (tuple[float, float]): Range of the crop's area fraction
            (``crop_ratio_range``). Defaults to (0.08, 1.0).
        crop_ratio (tuple[float, float]): Range of the crop's aspect ratio
            (``aspect_ratio_range``), sampled log-uniformly. Defaults to
            (3/4, 4/3).
        max_attempts (int): Crop samples tried before falling back to the
            central crop. Defaults to 10.
        jitter_prob (float): Probability of the colour jitter. Defaults to
            0.8.
        brightness (float | tuple): As ``ColorJitter``. Defaults to 0.4.
        contrast (float | tuple): As ``ColorJitter``. Defaults to 0.4.
        saturation (float | tuple): As ``ColorJitter``. Defaults to 0.4.
        hue (float | tuple): As ``ColorJitter``. Defaults to 0.1.
        gray_prob (float): Probability of ``RandomGrayscale``. Defaults to
            0.2.
        gray_weights (Sequence[float], optional): ``RandomGrayscale``'s
            ``channel_weights``, in the images' channel order. Defaults to
            the ITU-R 601 luma weights (0.2989 R, 0.587 G, 0.114 B) in that
            order.
        flip_prob (float): Probability of the horizontal flip. Defaults to
            0.5.
        blur_prob (float): Probability of mmpretrain's ``GaussianBlur``
            (Pillow's three-pass box approximation, reproduced exactly).
            Defaults to 0.
        blur_sigma (tuple[float, float]): Range of its standard deviation,
            drawn uniformly (``magnitude_range`` with
            ``magnitude_std='inf'``). Defaults to (0.1, 2.0).
        solarize_prob (float): Probability of mmpretrain's ``Solarize``.
            Defaults to 0.
        solarize_threshold (float): Values at or above it become
            ``255 - v``. Defaults to 128.
        channel_order (str): ``'bgr'`` (images as ``mmcv.imread`` loads
            them) or ``'rgb'``. Defaults to ``'bgr'``.
    """

    def __init__(self,
                 size: Union[int, Tuple[int, int]],
                 crop_scale: Tuple[float, float] = (0.08, 1.0),
                 crop_ratio: Tuple[float, float] = (3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 jitter_prob: float = 0.8,
                 brightness: Range = 0.4,
                 contrast: Range = 0.4,
                 saturation: Range = 0.4,
                 hue: Range = 0.1,
                 gray_prob: float = 0.2,
                 gray_weights: Optional[Sequence[float]] = None,
                 flip_prob: float = 0.5,
                 blur_prob: float = 0.0,
                 blur_sigma: Tuple[float, float] = (0.1, 2.0),
                 solarize_prob: float = 0.0,
                 solarize_threshold: float = 128,
                 channel_order: str = 'bgr') -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        if len(self.size) != 2 or min(self.size) <= 0:
            raise ConfigError(f'size must be a positive int or (h, w), '
                              f'got {size}')
        if not (len(crop_scale) == 2 and 0 <= crop_scale[0] <= crop_scale[1]
                and crop_scale[1] > 0):
            raise ConfigError('crop_scale must be a range (min, max) with '
                              f'0 <= min <= max, max > 0, got {crop_scale}')
        if not (len(crop_ratio) == 2 and 0 < crop_ratio[0] <= crop_ratio[1]):
            raise ConfigError('crop_ratio must be a range (min, max) with '
                              f'0 < min <= max, got {crop_ratio}')
        if not isinstance(max_attempts, int) or max_attempts < 0:
            raise ConfigError(f'max_attempts must be an int >= 0, '
                              f'got {max_attempts}')
        probs = dict(
            jitter_prob=jitter_prob,
            gray_prob=gray_prob,
            flip_prob=flip_prob,
            blur_prob=blur_prob,
            solarize_prob=solarize_prob)
        for name, prob in probs.items():
            if not 0 <= prob <= 1:
                raise ConfigError(f'{name} must be in [0, 1], got {prob}')
        pillow_ops.rgb_index(channel_order)  # validates it
        self.channel_order = channel_order
        self.crop_scale = tuple(crop_scale)
        self.crop_ratio = tuple(crop_ratio)
        self.max_attempts = max_attempts
        self.jitter_prob = jitter_prob
        inf = float('inf')
        self.ranges = (
            _jitter_range(brightness, 'brightness', 1., (0., inf)),
            _jitter_range(contrast, 'contrast', 1., (0., inf)),
            _jitter_range(saturation, 'saturation', 1., (0., inf)),
            _jitter_range(hue, 'hue', 0., (-0.5, 0.5)),
        )
        self.gray_prob = gray_prob
        if gray_weights is None:
            # ITU-R 601 luma, as the MoCo-v2 CIFAR config's channel_weights.
            gray_weights = (0.2989, 0.587, 0.114)
            if channel_order == 'bgr':
                gray_weights = gray_weights[::-1]
        self.gray_weights = tuple(float(w) for w in gray_weights)
        if len(self.gray_weights) != 3 or min(self.gray_weights) < 0 \
                or sum(self.gray_weights) <= 0:
            raise ConfigError('gray_weights must be 3 non-negative weights '
                              f'with a positive sum, got {gray_weights}')
        self.flip_prob = flip_prob
        if not (len(blur_sigma) == 2 and 0 < blur_sigma[0] <= blur_sigma[1]):
            raise ConfigError('blur_sigma must be a range (min, max) with '
                              f'0 < min <= max, got {blur_sigma}')
        self.blur_prob = blur_prob
        self.blur_sigma = (float(blur_sigma[0]), float(blur_sigma[1]))
        self.solarize_prob = solarize_prob
        self.solarize_threshold = solarize_threshold

    def _fallback_box(self, height: int, width: int) -> Tuple[int, ...]:
        """mmpretrain's central crop after ``max_attempts`` misses."""
        in_ratio = width / height
        low, high = min(self.crop_ratio), max(self.crop_ratio)
        if in_ratio < low:
            w, h = width, int(round(width / low))
        elif in_ratio > high:
            w, h = int(round(height * high)), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def sample_boxes(self, n: int, height: int, width: int,
                     generator: Optional[torch.Generator],
                     device: torch.device) -> Tensor:
        """Crop boxes as mmpretrain's ``RandomResizedCrop.rand_crop_params``.

        Each attempt draws an area fraction uniformly from ``crop_scale`` and
        an aspect ratio log-uniformly from ``crop_ratio``, rounds the sides
        half to even (Python's ``round``) and is kept if the box fits; the
        first fitting attempt wins, its offset uniform over the valid
        positions; without one, the central crop.

        Returns:
            Tensor: ``(n, 4)`` long boxes ``(top, left, height, width)``.
        """
        shape = (n, max(self.max_attempts, 1))
        draw = dict(generator=generator, device=device, dtype=torch.float64)
        area = torch.rand(shape, **draw)
        log_ratio = torch.rand(shape, **draw)
        offsets = torch.rand((n, 2), **draw)
        low, high = self.crop_scale
        target = (low + (high - low) * area) * (height * width)
        log_low, log_high = (math.log(r) for r in self.crop_ratio)
        ratio = torch.exp(log_low + (log_high - log_low) * log_ratio)
        w = torch.round(torch.sqrt(target * ratio))
        h = torch.round(torch.sqrt(target / ratio))
        fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
        if self.max_attempts == 0:
            fits = torch.zeros_like(fits)
        first = fits.to(torch.uint8).argmax(dim=1, keepdim=True)
        found = fits.any(dim=1)
        w = w.gather(1, first)[:, 0]
        h = h.gather(1, first)[:, 0]
        top = torch.floor(offsets[:, 0] * (height - h + 1))
        left = torch.floor(offsets[:, 1] * (width - w + 1))
        sampled = (top, left, h, w)
        fallback = self._fallback_box(height, width)
        return torch.stack([
            torch.where(found, value, default)
            for value, default in zip(sampled, fallback)
        ], dim=1).long()

    def sample(self,
               n: int,
               height: int,
               width: int,
               generator: Optional[torch.Generator] = None,
               device: Union[str, torch.device] = 'cpu') -> ViewParams:
        """Draw the parameters of one view of ``n`` images of one size.

        Args:
            n (int): Batch size.
            height (int): Image height.
            width (int): Image width.
            generator (torch.Generator, optional): Source of randomness, on
                ``device``; torch's default one if omitted.
            device (str | torch.device): Where to draw. Defaults to 'cpu'.

        Returns:
            ViewParams: The parameters.
        """
        device = torch.device(device)
        boxes = self.sample_boxes(n, height, width, generator, device)
        draw = dict(generator=generator, device=device)
        jitter = torch.rand(n, **draw) < self.jitter_prob
        order = torch.rand((n, 4), **draw).argsort(dim=1)
        unit = torch.rand((n, 4), dtype=torch.float64, **draw)
        factors = torch.zeros((n, 4), dtype=torch.float64, device=device)
        for i, span in enumerate(self.ranges):
            if span is not None:
                factors[:, i] = span[0] + (span[1] - span[0]) * unit[:, i]
        gray = torch.rand(n, **draw) < self.gray_prob
        flip = torch.rand(n, **draw) < self.flip_prob
        # Drawn last and only when enabled, so recipes without blur or
        # solarize draw what they drew before these existed.
        blur = torch.zeros(n, dtype=torch.bool, device=device)
        sigma = torch.zeros(n, dtype=torch.float64, device=device)
        if self.blur_prob > 0:
            blur = torch.rand(n, **draw) < self.blur_prob
            low, high = self.blur_sigma
            sigma = low + (high - low) * torch.rand(
                n, dtype=torch.float64, **draw)
        solarize = torch.zeros(n, dtype=torch.bool, device=device)
        if self.solarize_prob > 0:
            solarize = torch.rand(n, **draw) < self.solarize_prob
        return ViewParams(boxes, jitter, order, factors, gray, flip, blur,
                          sigma, solarize)

    def _jitter_op(self, index: int, images: Tensor,
                   factor: Tensor) -> Tensor:
        """Run jitter operation ``index`` on every image."""
        if index == 0:
            return pillow_ops.adjust_brightness(images, factor)
        if index == 1:
            return pillow_ops.adjust_contrast(images, factor,
                                              self.channel_order)
        if index == 2:
            return pillow_ops.adjust_saturation(images, factor,
                                                self.channel_order)
        return pillow_ops.adjust_hue(images, factor, self.channel_order)

    def apply(self, images: Tensor, params: ViewParams) -> Tensor:
        """Make the view described by ``params`` of every image.

        The batch is processed as a whole, without a per-sample loop: at
        each of the four jitter steps, every operation runs once on the
        samples whose order names it there (one device synchronisation per
        call, to size these groups).

        Args:
            images (Tensor): ``(N, 3, H, W)`` images with values in
                [0, 255] (uint8 or integer-valued float).
            params (ViewParams): From :meth:`sample` (or hand-made).

        Returns:
            Tensor: ``(N, 3, size[0], size[1])`` float32 integer-valued
            views, in the input's channel order.
        """
        out = pillow_ops.resized_crop(images, params.boxes, self.size)
        if self.jitter_prob > 0 and any(r is not None for r in self.ranges):
            out = self._jitter(out, params)
        mask_shape = (-1, 1, 1, 1)
        if self.gray_prob > 0:
            out = torch.where(
                params.gray.reshape(mask_shape),
                pillow_ops.grayscale(out, self.gray_weights), out)
        if self.blur_prob > 0 and params.blur is not None:
            # The whole batch is blurred and the drawn samples kept: no
            # device sync, and the box blur costs a few cumulative sums.
            sigma = torch.where(params.blur, params.sigma, self.blur_sigma[1])
            out = torch.where(
                params.blur.reshape(mask_shape),
                pillow_ops.gaussian_blur(out, sigma, self.blur_sigma[1]), out)
        if self.solarize_prob > 0 and params.solarize is not None:
            out = torch.where(
                params.solarize.reshape(mask_shape),
                pillow_ops.solarize(out, self.solarize_threshold), out)
        if self.flip_prob > 0:
            out = torch.where(
                params.flip.reshape(mask_shape), pillow_ops.hflip(out), out)
        return out

    def _jitter(self, images: Tensor, params: ViewParams) -> Tensor:
        """Run the jitter operations in each sample's order."""
        ops = len(self.ranges)
        # Operation of each sample at each step; ``ops`` where not jittered.
        keys = torch.where(params.jitter[:, None], params.order, ops)
        counts = torch.nn.functional.one_hot(keys, ops + 1).sum(0).tolist()
        out = images.clone()
        for step in range(keys.shape[1]):
            ranked = keys[:, step].argsort(stable=True)
            start = 0
            for op in range(ops):
                count = counts[step][op]
                index = ranked[start:start + count]
                start += count
                if count == 0 or self.ranges[op] is None:
                    continue
                out[index] = self._jitter_op(op, out[index],
                                             params.factors[index, op])
        return out
