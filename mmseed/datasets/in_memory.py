"""A folder-layout image dataset decoded once into one uint8 tensor."""
import time
from typing import Optional

import mmcv
import numpy as np
import torch
from mmengine import fileio
from mmengine.logging import MMLogger
from mmpretrain.datasets import CustomDataset
from torch import Tensor

from mmseed.errors import CorruptImageError
from mmseed.registry import DATASETS
from mmseed.errors import ConfigError

__all__ = ['InMemoryImageDataset']


@DATASETS.register_module()
class InMemoryImageDataset(CustomDataset):
    """:class:`CustomDataset` whose images are decoded once, into memory.

    For small datasets of equal-size images such as CIFAR-10 (the
    ``train/<class>/*.jpg`` layout of
    ``tools/dataset_converters/prepare_cifar10.py``): every image is decoded
    when the dataset initialises, as ``LoadImageFromFile`` would decode it
    (mmcv, OpenCV backend, BGR), into one ``N x 3 x H x W`` uint8 tensor
    (CIFAR-10's 50,000 training images: 146 MB, about 6 s of one CPU core,
    once per run and dataset). Each item
    then carries its image under ``img`` (a ``3 x H x W`` uint8 tensor, with
    ``img_shape`` and ``ori_shape``), so the pipeline only packs it
    (``[dict(type='PackInputs')]``) and dataloader workers do almost no
    work; the augmentation runs on the device
    (``MultiViewAugmentPreprocessor``). Nothing is cached on disk.

    Args:
        color_type (str): ``mmcv.imfrombytes`` flag; only ``'color'`` (3
            channels) is supported by the GPU augmentation. Defaults to
            ``'color'``.
        **kwargs: The arguments of :class:`CustomDataset` (``data_root``,
            ``data_prefix``, ``ann_file``, ``with_label``, ``pipeline``, ...).
    """

    def __init__(self, color_type: str = 'color', **kwargs) -> None:
        self.color_type = color_type
        self.images: Optional[Tensor] = None
        super().__init__(**kwargs)

    def full_init(self) -> None:
        """Find the samples, then decode every image into :attr:`images`."""
        if self._fully_initialized:
            return
        super().full_init()
        self.images = self._load_images()

    def _load_images(self) -> Tensor:
        """Decode the images of the (initialised) data list, in order."""
        start = time.time()
        images = None
        first_path = None
        for idx in range(len(self)):
            path = super().get_data_info(idx)['img_path']
            img = mmcv.imfrombytes(
                fileio.get(path), flag=self.color_type, backend='cv2')
            if img is None:
                raise CorruptImageError(
                    f'cannot decode image {path}: replace or remove the file')
            if img.ndim == 2:
                img = img[..., None]
            if images is None:
                first_path = path
                images = torch.empty((len(self), img.shape[2]) +
                                     img.shape[:2],
                                     dtype=torch.uint8)
            elif img.shape != tuple(images.shape[2:]) + (images.shape[1], ):
                raise ConfigError(
                    f'InMemoryImageDataset needs images of one size, but '
                    f'{path} is {img.shape[1]}x{img.shape[0]} while '
                    f'{first_path} is {images.shape[3]}x{images.shape[2]}: '
                    'resize them beforehand (prepare_cifar10.py writes '
                    'CIFAR-10 at 32x32) or use CustomDataset with '
                    'LoadImageFromFile')
            images[idx] = torch.from_numpy(
                np.ascontiguousarray(img.transpose(2, 0, 1)))
        MMLogger.get_current_instance().info(
            f'InMemoryImageDataset: decoded {len(self)} images of '
            f'{images.shape[3]}x{images.shape[2]} from {self.img_prefix} '
            f'({images.numel() / 2**20:.0f} MB) in {time.time() - start:.1f} '
            's')
        return images

    def get_data_info(self, idx: int) -> dict:
        """The sample's annotation plus its decoded image.

        Args:
            idx (int): Sample index.

        Returns:
            dict: ``img_path``, ``gt_label`` (with labels), ``sample_idx``,
            and ``img`` (a ``C x H x W`` uint8 tensor, a copy),
            ``img_shape``, ``ori_shape`` as ``LoadImageFromFile`` sets them.
        """
        info = super().get_data_info(idx)
        img = self.images[info['sample_idx']].clone()
        info['img'] = img
        info['img_shape'] = info['ori_shape'] = tuple(img.shape[1:])
        return info
