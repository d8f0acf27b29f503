"""A data preprocessor that makes the self-supervised views on the device."""
import inspect
from typing import List, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import get_rank
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from torch import Tensor

from mmseed.registry import MODELS
from mmseed.errors import ConfigError
from mmseed.models.utils.views import (BLUR_SIGMA, CROP_RATIO,
                                       GRAY_WEIGHTS_RGB, SOLARIZE_THRESHOLD,
                                       ViewGroup, parse_views)
from .view_augment import Range, ViewAugment, ViewParams

__all__ = ['MultiViewAugmentPreprocessor']


@MODELS.register_module()
class MultiViewAugmentPreprocessor(SelfSupDataPreprocessor):
    """Augments a uint8 batch into its views on its device.

    The views are stated either as a multi-view spec, ``views=[dict(name=...,
    num_views=..., size=..., scale=..., ...), ...]``
    (:mod:`mmseed.models.utils.views`: groups each with its own count, size,
    crop scale, colour jitter, greyscale, blur, solarize and flip, the same
    spec the CPU transform ``MultiViewGroups`` takes), or, for one recipe,
    with the single-recipe arguments below (``num_views``, ``crop_size``,
    ...). The views come out in group order.

    For small datasets held in memory (e.g. ``InMemoryImageDataset``), the
    CPU workers only hand over the stored uint8 images; this preprocessor
    then draws and applies, for every image and view, the view's
    augmentation on the batch's device (GPU in real use): random resized
    crop, colour jitter in random order with probability ``jitter_prob``,
    random greyscale, optionally Gaussian blur and solarize, horizontal
    flip. Parameters follow the CPU transforms they replace (mmpretrain's
    ``RandomResizedCrop`` with ``backend='pillow'``, ``ColorJitter``,
    ``GaussianBlur``, ``Solarize``, mmcv's ``RandomGrayscale`` and
    ``RandomFlip``) and so does the output distribution (see
    :class:`ViewAugment`). Views are then channel-converted and normalised
    as :class:`SelfSupDataPreprocessor` does, and returned as a list of
    ``num_views`` tensors (all groups' views, in order): what MoCo, SimCLR,
    BYOL and SEED take. The single-recipe defaults (and those of a view
    group) are the MoCo-v2 augmentation without blur (Chen et al., 2020,
    arXiv:2003.04297; ``main_moco.py --aug-plus`` of facebookresearch/moco),
    as ``configs/_base_/datasets/cifar10_mocov2.py`` uses it.

    Outside training (``training=False``: validation, testing, kNN feature
    extraction), or with ``augment=False``, it only converts and normalises,
    exactly as :class:`SelfSupDataPreprocessor`.

    Randomness: with ``seed=None`` each batch seeds a generator on the
    device from torch's global CPU generator plus the rank, so runs are
    reproducible from ``randomness.seed`` (and per-epoch reseeding), and
    ranks draw different augmentations, as dataloader workers do.

    Args:
        views (Sequence[dict], optional): The multi-view spec. With it, leave
            the single-recipe arguments (``num_views`` to ``flip_prob``) at
            their defaults. Defaults to None (one group from them).
        num_views (int): Views per image. Defaults to 2.
        crop_size (int | tuple[int, int]): Output size of the views.
            Defaults to 32.
        crop_scale (tuple[float, float]): Area fraction range of the crop.
            Defaults to (0.2, 1.0) (MoCo v2).
        crop_ratio (tuple[float, float]): Aspect ratio range of the crop.
            Defaults to (3/4, 4/3).
        max_attempts (int): Crop samples tried before the central crop.
            Defaults to 10.
        jitter_prob (float): Probability of the colour jitter. Defaults to
            0.8.
        brightness (float | tuple): Defaults to 0.4.
        contrast (float | tuple): Defaults to 0.4.
        saturation (float | tuple): Defaults to 0.4.
        hue (float | tuple): Defaults to 0.1.
        gray_prob (float): Probability of greyscale. Defaults to 0.2.
        gray_weights (Sequence[float], optional): Greyscale weights in the
            order of the input channels (BGR when ``to_rgb``), as
            ``RandomGrayscale``'s ``channel_weights``. Defaults to ITU-R 601
            luma in that order.
        flip_prob (float): Probability of the horizontal flip. Defaults to
            0.5.
        augment (bool): Augment in training. Defaults to True.
        seed (int, optional): Seed a private generator once (plus the rank)
            instead of drawing per-batch seeds from torch's global
            generator. Defaults to None.
        mean (Sequence[float], optional): Channel means after the channel
            conversion (0-255 scale).
        std (Sequence[float], optional): Channel stds after the conversion.
        to_rgb (bool): Inputs are BGR (as ``mmcv.imread`` loads them);
            convert the views to RGB. Defaults to False.
        bgr_to_rgb (bool): Same as ``to_rgb``. Defaults to False.
        rgb_to_bgr (bool): Inputs are RGB; convert to BGR. Defaults to False.
        non_blocking (bool): Non-blocking host-to-device copies. Defaults to
            False.
    """

    def __init__(self,
                 views: Optional[Sequence[Union[Mapping, ViewGroup]]] = None,
                 num_views: int = 2,
                 crop_size: Union[int, Tuple[int, int]] = 32,
                 crop_scale: Tuple[float, float] = (0.2, 1.0),
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
                 augment: bool = True,
                 seed: Optional[int] = None,
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 to_rgb: bool = False,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 non_blocking: bool = False) -> None:
        super().__init__(
            mean=mean,
            std=std,
            to_rgb=to_rgb,
            bgr_to_rgb=bgr_to_rgb,
            rgb_to_bgr=rgb_to_bgr,
            non_blocking=non_blocking)
        channel_order = 'bgr' if (to_rgb or bgr_to_rgb) else 'rgb'
        recipe = dict(
            num_views=num_views,
            crop_size=crop_size,
            crop_scale=crop_scale,
            crop_ratio=crop_ratio,
            max_attempts=max_attempts,
            jitter_prob=jitter_prob,
            brightness=brightness,
            contrast=contrast,
            saturation=saturation,
            hue=hue,
            gray_prob=gray_prob,
            gray_weights=gray_weights,
            flip_prob=flip_prob)
        if views is None:
            if not isinstance(num_views, int) or num_views < 1:
                raise ConfigError(f'num_views must be a positive int, '
                                  f'got {num_views!r}')
            del recipe['num_views'], recipe['crop_size']
            self.view_groups = None
            # (name, count, augmenter) of every group, in view order.
            self.groups = [('views', num_views,
                            ViewAugment(
                                size=crop_size,
                                channel_order=channel_order,
                                **recipe))]
        else:
            defaults = inspect.signature(
                MultiViewAugmentPreprocessor.__init__).parameters
            changed = [
                key for key, value in recipe.items()
                if value != defaults[key].default
            ]
            if changed:
                raise ConfigError(
                    'MultiViewAugmentPreprocessor takes the views either as '
                    'views=[...] or as the single-recipe arguments, not both:'
                    f' move {changed} into the view groups of views')
            self.view_groups = parse_views(views, 'data_preprocessor.views')
            self.groups = [(group.name, group.num_views,
                            self._group_augment(group, channel_order))
                           for group in self.view_groups]
        self.num_views = sum(count for _, count, _ in self.groups)
        # The first group's augmenter (the only one without ``views``).
        self.view_augment = self.groups[0][2]
        self.augment_in_training = augment
        self.seed = seed
        self._generators = {}

    @staticmethod
    def _group_augment(group: ViewGroup, channel_order: str) -> ViewAugment:
        """The device augmenter of one view group of the spec."""
        brightness, contrast, saturation, hue = group.jitter
        gray_weights = GRAY_WEIGHTS_RGB
        if channel_order == 'bgr':
            gray_weights = gray_weights[::-1]
        return ViewAugment(
            size=group.size,
            crop_scale=group.scale,
            crop_ratio=CROP_RATIO,
            jitter_prob=group.jitter_prob,
            brightness=brightness,
            contrast=contrast,
            saturation=saturation,
            hue=hue,
            gray_prob=group.gray_prob,
            gray_weights=gray_weights,
            flip_prob=group.flip_prob,
            blur_prob=group.blur_prob,
            blur_sigma=BLUR_SIGMA,
            solarize_prob=group.solarize_prob,
            solarize_threshold=SOLARIZE_THRESHOLD,
            channel_order=channel_order)

    @property
    def view_counts(self) -> List[Tuple[str, int]]:
        """``(name, num_views)`` of every group, in view order, as
        :func:`mmseed.models.utils.views.split_views` takes them."""
        return [(name, count) for name, count, _ in self.groups]

    def _generator(self, device: torch.device) -> torch.Generator:
        """The generator for this batch's draws, on ``device``."""
        generator = self._generators.get(device)
        if generator is None:
            generator = torch.Generator(device=device)
            self._generators[device] = generator
            if self.seed is not None:
                generator.manual_seed(self.seed + get_rank())
        if self.seed is None:
            # A CPU draw (no device sync) that follows torch.manual_seed.
            base = int(torch.randint(0, 2**62, (1, )).item())
            generator.manual_seed(base + get_rank())
        return generator

    @staticmethod
    def _check_images(inputs) -> Tensor:
        """The single uint8 ``(N, 3, H, W)`` batch the dataset gave."""
        fix = ("use a dataset whose pipeline only packs the stored image, "
               "e.g. InMemoryImageDataset with [dict(type='PackInputs')] "
               'and default_collate, as configs/_base_/datasets/'
               'cifar10_gpu_aug.py does')
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1 or not isinstance(inputs[0], Tensor):
                raise ConfigError(
                    'MultiViewAugmentPreprocessor makes the views itself and '
                    'needs one un-augmented uint8 batch, but got '
                    f'{len(inputs)} views (a MultiView pipeline?): {fix}')
            inputs = inputs[0]
        if not isinstance(inputs, Tensor) or inputs.ndim != 4 \
                or inputs.shape[1] != 3:
            shape = tuple(inputs.shape) if isinstance(inputs,
                                                      Tensor) else None
            raise ConfigError(
                'MultiViewAugmentPreprocessor needs a batch tensor N x 3 x H '
                f'x W of equal-size images, got {type(inputs).__name__} '
                f'{shape or ""}: {fix}')
        if inputs.dtype != torch.uint8:
            raise ConfigError(
                'MultiViewAugmentPreprocessor reproduces the uint8 CPU '
                f'pipeline and needs uint8 images, got {inputs.dtype}: '
                f'{fix}')
        return inputs

    def augment(
        self,
        images: Tensor,
        generator: Optional[torch.Generator] = None
    ) -> Tuple[List[Tensor], List[ViewParams]]:
        """Draw and apply the views of every image, group by group.

        Args:
            images (Tensor): ``(N, 3, H, W)`` uint8 images in the input
                channel order.
            generator (torch.Generator, optional): On the images' device;
                the preprocessor's own if omitted.

        Returns:
            tuple[list[Tensor], list[ViewParams]]: The views (float32,
            values in [0, 255], input channel order, not normalised) and the
            parameters that made them.
        """
        if generator is None:
            generator = self._generator(images.device)
        n, _, height, width = images.shape
        views, params = [], []
        with torch.autocast(device_type=images.device.type, enabled=False):
            for _, count, view_augment in self.groups:
                for _ in range(count):
                    view_params = view_augment.sample(
                        n, height, width, generator, images.device)
                    views.append(view_augment.apply(images, view_params))
                    params.append(view_params)
        return views, params

    def normalize(self, views: List[Tensor]) -> List[Tensor]:
        """Channel conversion and normalisation, as the parent does."""
        if self._channel_conversion:
            views = [view[:, [2, 1, 0]] for view in views]
        views = [view.float() for view in views]
        if self._enable_normalize:
            views = [(view - self.mean) / self.std for view in views]
        return views

    def forward(self, data: dict, training: bool = False) -> dict:
        """Augment (in training) and normalise a batch.

        Args:
            data (dict): From the dataloader: ``inputs`` (uint8
                ``(N, 3, H, W)``) and ``data_samples``.
            training (bool): Make augmented views (True) or only normalise.

        Returns:
            dict: ``inputs``, a list of ``num_views`` float tensors in
            training (else what :class:`SelfSupDataPreprocessor` returns),
            and ``data_samples``.
        """
        if not (training and self.augment_in_training):
            return super().forward(data, training)
        data = self.cast_data(data)
        images = self._check_images(data['inputs'])
        views, _ = self.augment(images)
        return {
            'inputs': self.normalize(views),
            'data_samples': data.get('data_samples')
        }
