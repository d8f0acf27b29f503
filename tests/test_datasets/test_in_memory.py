"""InMemoryImageDataset: the folder layout decoded once into a uint8 tensor,
pixel for pixel what LoadImageFromFile gives."""
import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import LoadImageFromFile
from mmengine.dataset import default_collate
from mmpretrain.datasets import CustomDataset
from torch.utils.data import DataLoader

from mmseed.registry import DATASETS
from mmseed.utils import register_all_modules

CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')


def build(root, **kwargs):
    register_all_modules()
    cfg = dict(type='InMemoryImageDataset', data_root=str(root),
               data_prefix='train', pipeline=[dict(type='PackInputs')])
    cfg.update(kwargs)
    return DATASETS.build(cfg)


@pytest.fixture(scope='module')
def dataset(cifar_slice):
    return build(cifar_slice)


def test_holds_every_image_as_load_image_from_file_decodes_it(
        dataset, cifar_slice):
    folder = CustomDataset(data_root=str(cifar_slice), data_prefix='train')
    assert len(dataset) == len(folder) == 80
    assert dataset.metainfo['classes'] == CLASSES
    assert dataset.images.shape == (80, 3, 32, 32)
    assert dataset.images.dtype == torch.uint8
    load = LoadImageFromFile()
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        expected = folder.get_data_info(idx)
        assert info['img_path'] == expected['img_path']
        assert info['gt_label'] == expected['gt_label']
        bgr = load(dict(img_path=info['img_path']))['img']
        assert torch.equal(info['img'], torch.from_numpy(bgr).permute(2, 0,
                                                                      1))
        assert info['img_shape'] == info['ori_shape'] == (32, 32)
    # The images differ (not one image repeated).
    assert len({img.sum().item() for img in dataset.images}) > 70


def test_pipeline_packs_the_stored_uint8_image(dataset):
    item = dataset[3]
    assert torch.equal(item['inputs'], dataset.images[3])
    assert item['inputs'].dtype == torch.uint8
    assert item['data_samples'].gt_label.item() == \
        dataset.get_data_info(3)['gt_label']


def test_items_are_copies(dataset):
    before = dataset.images[0].clone()
    dataset.get_data_info(0)['img'].zero_()
    assert torch.equal(dataset.images[0], before)


@pytest.mark.parametrize('workers', [0, 1])
def test_batches_through_a_dataloader(dataset, workers):
    loader = DataLoader(dataset, batch_size=16, num_workers=workers,
                        collate_fn=default_collate)
    batches = list(loader)
    assert len(batches) == 5
    inputs = torch.cat([b['inputs'] for b in batches])
    assert inputs.dtype == torch.uint8
    assert torch.equal(inputs, dataset.images)
    labels = [s.gt_label.item() for b in batches for s in b['data_samples']]
    assert labels == [dataset.get_data_info(i)['gt_label']
                      for i in range(80)]


def test_a_subset_holds_only_its_images(cifar_slice, dataset):
    subset = build(cifar_slice, indices=[5, 17, 40])
    assert subset.images.shape == (3, 3, 32, 32)
    for i, idx in enumerate((5, 17, 40)):
        assert torch.equal(subset.images[i], dataset.images[idx])


def test_lazy_init_decodes_on_first_use(cifar_slice):
    lazy = build(cifar_slice, lazy_init=True)
    assert lazy.images is None
    assert torch.equal(lazy[0]['inputs'], lazy.images[0])


def write_image(path, height, width):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((height, width, 3), 90, np.uint8))


def test_images_of_different_sizes_are_refused_by_name(tmp_path):
    write_image(tmp_path / 'train' / 'a' / 'one.png', 8, 8)
    write_image(tmp_path / 'train' / 'b' / 'two.png', 6, 8)
    with pytest.raises(ValueError,
                       match=r'images of one size.*two\.png is 8x6'):
        build(tmp_path)


def test_an_undecodable_image_is_refused_by_name(tmp_path):
    write_image(tmp_path / 'train' / 'a' / 'one.png', 8, 8)
    bad = tmp_path / 'train' / 'b' / 'broken.png'
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b'not an image')
    with pytest.raises(ValueError, match=r'cannot decode image .*broken\.png'):
        build(tmp_path)
