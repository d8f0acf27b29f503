"""Annotation files are read as CustomDataset reads them, and checked early."""
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmpretrain.datasets import CustomDataset

from mmseed.datasets import (AnnotationFileError, check_ann_file,
                             find_missing_images, parse_ann_lines,
                             read_ann_file)
from mmseed.utils.config_check import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding='utf-8')
    return path


def test_parses_paths_and_labels_as_custom_dataset(tmp_path):
    folder = tmp_path / 'images' / 'sub dir'
    folder.mkdir(parents=True)
    for name in ('a.jpg', 'b c.jpg'):
        (folder / name).write_bytes(b'x')
    ann = write(tmp_path / 'ann.txt',
                'sub dir/a.jpg 3\r\n  sub dir/b c.jpg -1  \nsub dir/a.jpg 0\n')
    expected = [('sub dir/a.jpg', 3), ('sub dir/b c.jpg', -1),
                ('sub dir/a.jpg', 0)]
    assert read_ann_file(str(ann)) == expected
    # mmpretrain reads the same paths and labels from it.
    dataset = CustomDataset(ann_file=str(ann), data_prefix=str(tmp_path /
                                                               'images'),
                            lazy_init=False, pipeline=[])
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [(str(Path(i['img_path']).relative_to(tmp_path / 'images')),
             i['gt_label']) for i in infos] == expected
    assert check_ann_file(str(ann), str(tmp_path / 'images')) == 3


def test_without_labels_a_line_is_a_path():
    assert parse_ann_lines(['x/a b.jpg', ' y.png'], with_label=False) == [
        ('x/a b.jpg', None), (' y.png', None)]


@pytest.mark.parametrize('lines, message', [
    (['a.jpg 1', ''], 'line 2 is empty'),
    (['   '], 'line 1 is empty'),
    (['a.jpg'], "line 1 is 'a.jpg', expected '<path> <label>'"),
    (['a.jpg\t1'], "expected '<path> <label>' separated by a space"),
    (['a.jpg one'], "line 1: the label 'one' is not an integer"),
    (['a\0.jpg 1'], 'line 1 contains a NUL character'),
])
def test_malformed_lines_name_the_line(lines, message):
    with pytest.raises(AnnotationFileError, match=message):
        parse_ann_lines(lines, source='ann.txt')


def test_unreadable_files(tmp_path):
    with pytest.raises(AnnotationFileError, match='not found'):
        read_ann_file(str(tmp_path / 'none.txt'))
    latin1 = tmp_path / 'latin1.txt'
    latin1.write_bytes('caf\xe9.jpg 1\n'.encode('latin-1'))
    with pytest.raises(AnnotationFileError, match='not UTF-8 text'):
        read_ann_file(str(latin1))
    with pytest.raises(AnnotationFileError, match='cannot read'):
        read_ann_file(str(tmp_path))  # a folder


def test_missing_images_are_counted_and_the_first_named(tmp_path):
    images = tmp_path / 'images'
    (images / 'cls').mkdir(parents=True)
    (images / 'cls' / 'there.jpg').write_bytes(b'x')
    (images / 'cls' / 'folder.jpg').mkdir()  # not a file
    names = [f'cls/gone{i}.jpg' for i in range(7)]
    lines = ['cls/there.jpg 0', 'cls/folder.jpg 0', 'nodir/x.jpg 1'] + [
        f'{n} 2' for n in names]
    ann = write(tmp_path / 'ann.txt', '\n'.join(lines))
    assert find_missing_images(['cls/there.jpg', 'cls/folder.jpg'],
                               str(images)) == ['cls/folder.jpg']
    with pytest.raises(AnnotationFileError) as err:
        check_ann_file(str(ann), str(images), where='train_dataloader.dataset')
    message = str(err.value)
    assert 'names 9 of 10 images that do not exist' in message
    assert "'cls/folder.jpg', 'nodir/x.jpg', 'cls/gone0.jpg'" in message
    assert 'gone3' not in message  # only the first five are named
    assert 'train_dataloader.dataset.ann_file' in message
    assert isinstance(err.value, ConfigError)  # one-line error in the tools


def test_empty_annotation_file(tmp_path):
    ann = write(tmp_path / 'ann.txt', '')
    with pytest.raises(AnnotationFileError, match='lists no images'):
        check_ann_file(str(ann), str(tmp_path))


# Lines built from the characters that matter to the format: spaces, tabs,
# digits, signs, path separators, line breaks, NUL, non-ASCII.
LINE_TEXT = st.text(
    alphabet=st.sampled_from(list(string.ascii_letters[:6] + string.digits +
                                  ' \t\r/._-+\0') + ['é', '\u3000', '٣']),
    max_size=16)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE_TEXT, max_size=6), st.booleans())
def test_fuzz_parser_returns_or_raises_annotation_error(lines, with_label):
    try:
        samples = parse_ann_lines(lines, with_label)
    except AnnotationFileError:
        return
    assert len(samples) == len(lines)
    for line, (path, label) in zip(lines, samples):
        assert path and '\0' not in path
        if with_label:
            # What CustomDataset does with the line, it did not crash on.
            name, text = line.strip().rsplit(' ', 1)
            assert (path, label) == (name, int(text))
        else:
            assert (path, label) == (line, None)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.binary(max_size=64),
        # Near-valid files, so that accepted ones are generated too.
        st.lists(st.sampled_from([b'a/1 0', b'a/1', b'a/2 1', b' a/1  3 ',
                                  b'a/1 x', b'a/1 -7\r', b'\xff', b'']),
                 max_size=4).map(b'\n'.join)),
    st.booleans())
def test_fuzz_file_check_returns_or_raises_annotation_error(
        tmp_path, data, with_label):
    ann = tmp_path / 'ann.txt'
    ann.write_bytes(data)
    (tmp_path / 'a').mkdir(exist_ok=True)
    (tmp_path / 'a' / '1').write_bytes(b'x')
    try:
        count = check_ann_file(str(ann), str(tmp_path), with_label)
    except AnnotationFileError:
        return
    # Accepted: every listed image exists.
    samples = read_ann_file(str(ann), with_label)
    assert count == len(samples) > 0
    assert all((tmp_path / path).is_file() for path, _ in samples)
