"""tools/dataset_converters/make_label_subset.py: class-balanced, seeded,
nested label subsets as CustomDataset annotation files, and their checks."""
import hashlib
import os

import pytest

from conftest import load_tool, run_tool

subsets = load_tool('tools/dataset_converters/make_label_subset.py')
TOOL = 'tools/dataset_converters/make_label_subset.py'


def make_split(root, counts):
    """A folder-per-class split of empty '.jpg' files: {class: count}."""
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            (root / name / f'{name}_{i:03d}.jpg').touch()
    return root


@pytest.fixture
def split(tmp_path):
    root = make_split(tmp_path / 'data' / 'train',
                      {'dog': 12, 'cat': 10, 'emu': 15})
    (root / 'cat' / 'notes.txt').write_text('not an image')
    return root


def by_class(entries):
    found = {}
    for path, label in entries:
        found.setdefault(label, []).append(path)
    return found


def test_list_split_mirrors_custom_dataset(split):
    classes, images = subsets.list_split(split)
    assert classes == ['cat', 'dog', 'emu']  # sorted: the labels 0, 1, 2
    assert len(images['cat']) == 10  # notes.txt is not an image
    assert images['dog'][0] == 'dog/dog_000.jpg'


def test_subsets_are_class_balanced_with_the_right_labels(split):
    _, images = subsets.list_split(split)
    # 20% of 37 images in 3 classes: round(2.47) = 2 a class.
    entries = subsets.sample_subset(images, fraction=0.2, seed=0)
    assert {label: len(p) for label, p in by_class(entries).items()} == {
        0: 2, 1: 2, 2: 2}
    for path, label in entries:
        assert path.split('/')[0] == ['cat', 'dog', 'emu'][label]
        assert path in images[path.split('/')[0]]
    entries = subsets.sample_subset(images, per_class=7, seed=3)
    assert [len(p) for p in by_class(entries).values()] == [7, 7, 7]
    assert len(set(entries)) == 21


def test_the_draw_is_the_smallest_sha256_keys(split):
    _, images = subsets.list_split(split)
    entries = subsets.sample_subset(images, per_class=3, seed=5)
    keys = {p: hashlib.sha256(f'5/dog/{p}'.encode()).hexdigest()
            for p in images['dog']}
    assert by_class(entries)[1] == sorted(sorted(keys, key=keys.get)[:3])


def test_same_seed_same_subset_other_seed_other_subset(split):
    _, images = subsets.list_split(split)
    first = subsets.sample_subset(images, per_class=4, seed=0)
    assert subsets.sample_subset(images, per_class=4, seed=0) == first
    assert subsets.sample_subset(images, per_class=4, seed=1) != first


def test_subsets_of_one_seed_are_nested(split):
    _, images = subsets.list_split(split)
    small = set(subsets.sample_subset(images, per_class=2, seed=7))
    large = set(subsets.sample_subset(images, per_class=6, seed=7))
    assert small < large
    assert not small <= set(subsets.sample_subset(images, per_class=6, seed=8))


def test_the_file_does_not_depend_on_the_python_hash_seed(split):
    outs = []
    for hash_seed in ('1', '2'):
        out = split.parent / f'h{hash_seed}.txt'
        result = run_tool(TOOL, 'sample', split, '--per-class', '3',
                          '--seed', '4', '--out', out,
                          env={'PYTHONHASHSEED': hash_seed})
        assert result.returncode == 0, result.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_cli_writes_the_named_file_in_customdataset_format(split):
    result = run_tool(TOOL, 'sample', split, '--fraction', '0.2')
    assert result.returncode == 0, result.stderr
    out = split.parent / 'meta' / 'train_20pct_seed0.txt'
    assert f'wrote {out}: 6 images (seed 0)' in result.stdout
    lines = out.read_text().splitlines()
    assert len(lines) == 6 and lines[0].startswith('cat/cat_')
    assert all(line.rsplit(' ', 1)[1] in '012' for line in lines)


@pytest.mark.parametrize('kwargs', [
    dict(fraction=0.2, seed=0), dict(fraction=0.005, seed=12),
    dict(per_class=50, seed=3)
])
def test_file_names_round_trip(kwargs):
    name = subsets.subset_file_name('train', **kwargs)
    parsed = subsets.parse_subset_file_name(f'data/meta/{name}')
    assert parsed == dict(split='train', fraction=kwargs.get('fraction'),
                          per_class=kwargs.get('per_class'),
                          seed=kwargs['seed'])
    assert subsets.subset_file_name('train', 0.1, None, 0) == \
        'train_10pct_seed0.txt'
    assert subsets.parse_subset_file_name('train_1percent.txt') is None


@pytest.mark.parametrize('kwargs, message', [
    (dict(fraction=0.01), 'leaves no image per class'),
    (dict(fraction=1.5), 'must be in (0, 1]'),
    (dict(per_class=11), 'class cat has 10 images, fewer than the 11'),
    (dict(per_class=0), 'must be at least 1'),
    (dict(), 'exactly one of'),
])
def test_impossible_subsets_are_refused(split, kwargs, message):
    _, images = subsets.list_split(split)
    with pytest.raises(subsets.LabelSubsetError) as err:
        subsets.sample_subset(images, **kwargs)
    assert message in str(err.value)


def test_subset_of_real_cifar_loads_in_customdataset(cifar_slice, tmp_path):
    from mmpretrain.datasets import CustomDataset
    out, count = subsets.make_subset_file(cifar_slice / 'train', per_class=3,
                                          seed=0, out=tmp_path / 'sub.txt')
    assert count == 30
    dataset = CustomDataset(
        data_root=str(cifar_slice), data_prefix='train', ann_file=str(out),
        pipeline=[dict(type='LoadImageFromFile')])
    full = CustomDataset(data_root=str(cifar_slice), data_prefix='train')
    folder_labels = {info['img_path']: info['gt_label']
                     for info in full.load_data_list()}
    assert len(dataset) == 30
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        # The label CustomDataset gives the image without an annotation file.
        assert folder_labels[info['img_path']] == info['gt_label']
    assert dataset[0]['img'].shape == (32, 32, 3)


def test_missing_image_is_a_clear_error(split, tmp_path):
    out, _ = subsets.make_subset_file(split, per_class=3, seed=0)
    gone = out.read_text().splitlines()[4].rsplit(' ', 1)[0]
    os.remove(split / gone)
    with pytest.raises(subsets.LabelSubsetError) as err:
        subsets.check_annotation(out, split)
    assert f'names 1 of 9 images that are not in {split} (e.g. {gone})' in \
        str(err.value)
    assert 'regenerate' in str(err.value)
    result = run_tool(TOOL, 'check', split, out)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    assert result.stderr.startswith('make_label_subset: error: ')
    assert gone in result.stderr


def test_wrong_label_and_bad_lines_are_clear_errors(split, tmp_path):
    ann = tmp_path / 'a.txt'
    ann.write_text('dog/dog_000.jpg 0\n')  # dog is class 1
    with pytest.raises(subsets.LabelSubsetError, match='do not match the 3 '
                       'class folders'):
        subsets.check_annotation(ann, split)
    ann.write_text('dog/dog_000.jpg one\n')
    with pytest.raises(subsets.LabelSubsetError, match='line 1'):
        subsets.check_annotation(ann, split)
    with pytest.raises(subsets.LabelSubsetError, match='not found'):
        subsets.check_annotation(tmp_path / 'nope.txt', split)


def test_simclr_name_lists_convert(tmp_path):
    train = make_split(tmp_path / 'imagenet' / 'train',
                       {'n01440764': 3, 'n01443537': 2})
    names = tmp_path / '1percent.txt'
    names.write_text('n01443537_001.jpg\nn01440764_002.jpg\n\n')
    out, count = subsets.convert_name_list(train, names)
    assert out == tmp_path / 'imagenet' / 'meta' / 'train_1percent.txt'
    assert count == 2
    assert out.read_text() == ('n01443537/n01443537_001.jpg 1\n'
                               'n01440764/n01440764_002.jpg 0\n')
    names.write_text('n09999999_001.jpg\n')
    with pytest.raises(subsets.LabelSubsetError,
                       match='class folder n09999999/'):
        subsets.convert_name_list(train, names)
    names.write_text('n01440764_999.jpg\n')
    with pytest.raises(subsets.LabelSubsetError, match='names 1 of 1 images'):
        subsets.convert_name_list(train, names, out=tmp_path / 'x.txt')
    assert not (tmp_path / 'x.txt').exists()  # checked before writing
    with pytest.raises(subsets.LabelSubsetError) as err:
        subsets.convert_name_list(train, tmp_path / '10percent.txt')
    assert subsets.SIMCLR_SUBSETS_URL in str(err.value)


def test_cli_from_list_and_bad_input(tmp_path):
    train = make_split(tmp_path / 'in' / 'train', {'n01': 2})
    (tmp_path / 'l.txt').write_text('n01_001.jpg\n')
    result = run_tool(TOOL, 'from-list', train, tmp_path / 'l.txt')
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'in' / 'meta' / 'train_l.txt').is_file()
    result = run_tool(TOOL, 'sample', tmp_path / 'none', '--per-class', '1')
    assert result.returncode == 2
    assert 'split folder not found' in result.stderr
