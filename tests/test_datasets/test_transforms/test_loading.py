"""SafeLoadImageFromFile skips or rejects unreadable images, naming them."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import LoadImageFromFile
from mmengine.logging import MMLogger
from mmpretrain.datasets import CustomDataset
from torch.utils.data import DataLoader, Dataset

from mmseed.datasets import CorruptImageError, SafeLoadImageFromFile
from mmseed.registry import TRANSFORMS
from mmseed.utils import register_all_modules

register_all_modules()


def encoded(ext: str, seed: int = 0, size: int = 64) -> bytes:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def bad_files(folder: Path) -> dict:
    """One file per kind of damage (the missing one is not written)."""
    jpg, png = encoded('.jpg'), encoded('.png')
    damaged = {
        'truncated.jpg': jpg[:len(jpg) * 9 // 10],
        'truncated.png': png[:len(png) // 2],
        'empty.jpg': b'',
        'garbage.jpg': b'this is not an image',
    }
    for name, data in damaged.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in [*damaged, 'missing.jpg']}


@pytest.fixture
def log_file(tmp_path):
    """A fresh current MMLogger writing to a file; returns its path."""
    path = tmp_path / 'log.txt'
    MMLogger.get_instance(f'loading-{tmp_path.name}', log_file=str(path))
    return path


def test_registered_and_built_from_config():
    transform = TRANSFORMS.build(
        dict(type='SafeLoadImageFromFile', on_corrupt='error'))
    assert isinstance(transform, SafeLoadImageFromFile)
    assert transform.on_corrupt == 'error'
    assert SafeLoadImageFromFile().on_corrupt == 'skip'


def test_good_image_loads_as_mmcv_does(tmp_path):
    path = tmp_path / 'good.jpg'
    path.write_bytes(encoded('.jpg', seed=3))
    got = SafeLoadImageFromFile()(dict(img_path=str(path)))
    expected = LoadImageFromFile()(dict(img_path=str(path)))
    assert np.array_equal(got['img'], expected['img'])
    assert got['img_shape'] == got['ori_shape'] == (64, 64)


def test_skip_returns_none_and_logs_name_and_running_count(tmp_path, log_file):
    transform = SafeLoadImageFromFile(on_corrupt='skip')
    files = bad_files(tmp_path)
    for count, path in enumerate(files.values(), 1):
        assert transform(dict(img_path=str(path))) is None, path.name
        assert transform.num_skipped == count
    lines = [line for line in log_file.read_text().splitlines()
             if 'skipped unreadable image' in line]
    assert len(lines) == len(files)
    for count, (line, path) in enumerate(zip(lines, files.values()), 1):
        assert 'WARNING' in line and str(path) in line
        assert f'{count} file(s) skipped so far on this rank' in line


@pytest.mark.parametrize('name', [
    'truncated.jpg', 'truncated.png', 'empty.jpg', 'garbage.jpg',
    'missing.jpg'
])
def test_error_names_the_file(name, tmp_path):
    path = bad_files(tmp_path)[name]
    transform = SafeLoadImageFromFile(on_corrupt='error')
    with pytest.raises(CorruptImageError, match='cannot read image') as err:
        transform(dict(img_path=str(path)))
    assert str(path) in str(err.value)
    assert "on_corrupt='skip'" in str(err.value)
    assert transform.num_skipped == 0


@pytest.mark.parametrize('kwargs', [
    dict(on_corrupt='ignore'), dict(ignore_empty=True)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        SafeLoadImageFromFile(**kwargs)


def test_dataset_refetches_another_image_for_a_skipped_one(tmp_path):
    """mmengine's BaseDataset draws another index when the pipeline skips."""
    folder = tmp_path / 'train' / 'a'
    folder.mkdir(parents=True)
    for i in range(3):
        (folder / f'good{i}.jpg').write_bytes(encoded('.jpg', seed=i))
    (folder / 'bad.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    dataset = CustomDataset(
        data_root=str(tmp_path), data_prefix='train', with_label=False,
        pipeline=[dict(type='SafeLoadImageFromFile')])
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    bad = paths.index(str(folder / 'bad.jpg'))
    item = dataset[bad]
    assert item['img_path'] != paths[bad] and item['img'].shape == (64, 64, 3)
    assert dataset.pipeline.transforms[0].num_skipped >= 1


class PathDataset(Dataset):
    """Applies a transform to each path; 1 for a loaded image, 0 skipped."""

    def __init__(self, paths, transform):
        self.paths, self.transform = paths, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return int(self.transform(dict(img_path=str(self.paths[index])))
                   is not None)


def test_count_adds_up_over_dataloader_workers(tmp_path):
    good = tmp_path / 'good.png'
    good.write_bytes(encoded('.png'))
    bad = list(bad_files(tmp_path).values())
    paths = [good, *bad, good, *bad]
    transform = SafeLoadImageFromFile()
    loader = DataLoader(PathDataset(paths, transform), batch_size=1,
                        num_workers=2)
    loaded = torch.cat(list(loader))
    assert loaded.tolist() == [1] + [0] * len(bad) + [1] + [0] * len(bad)
    # Both workers' skips are counted, in the main process too.
    assert transform.num_skipped == 2 * len(bad)
