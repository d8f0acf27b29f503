"""Reading and checking annotation files of mmpretrain's ``CustomDataset``.

An annotation file lists one image per line, relative to the dataset's image
folder (``data_prefix``): ``<path> <label>`` (split at the last space, the
label an integer) or, with ``with_label=False``, ``<path>`` alone. mmpretrain
reads it only when the dataset is built and fails late, deep inside
``load_data_list`` (a blank line, a missing label), or much later, when a
listed image that does not exist is loaded. :func:`check_ann_file` reads the
file the same way at startup and reports every such problem at once.
"""
import os
from typing import Dict, Iterable, List, Optional, Set, Tuple

from mmengine.fileio import list_from_file

from mmseed.errors import AnnotationFileError, ConfigError

__all__ = [
    'AnnotationFileError', 'parse_ann_lines', 'read_ann_file',
    'find_missing_images', 'check_ann_file'
]

_SHOWN = 5  # how many missing images a message names


def parse_ann_lines(
        lines: Iterable[str],
        with_label: bool = True,
        source: str = 'ann_file') -> List[Tuple[str, Optional[int]]]:
    """Parse the lines of an annotation file as ``CustomDataset`` does.

    Args:
        lines (Iterable[str]): The lines, without line terminators.
        with_label (bool): Lines are ``<path> <label>`` (True) or ``<path>``.
            Defaults to True.
        source (str): Name of the file, for messages.

    Returns:
        List[Tuple[str, Optional[int]]]: ``(path, label)`` per line; the
        label is None without labels.

    Raises:
        AnnotationFileError: A line is empty, lacks a label, has a label that
            is not an integer, or contains a NUL character.
    """
    samples = []
    for number, line in enumerate(lines, 1):
        where = f'{source} line {number}'
        if not line.strip():
            raise AnnotationFileError(
                f'{where} is empty; remove empty lines (each line names one '
                'image)')
        if '\0' in line:
            raise AnnotationFileError(f'{where} contains a NUL character')
        if not with_label:
            samples.append((line, None))
            continue
        parts = line.strip().rsplit(' ', 1)
        if len(parts) != 2:
            raise AnnotationFileError(
                f"{where} is {line.strip()[:80]!r}, expected '<path> <label>' "
                'separated by a space; for a list of paths without labels set '
                'with_label=False in the dataset config')
        try:
            label = int(parts[1])
        except ValueError:
            raise AnnotationFileError(
                f'{where}: the label {parts[1][:40]!r} is not an integer'
            ) from None
        samples.append((parts[0], label))
    return samples


def read_ann_file(path: str,
                  with_label: bool = True) -> List[Tuple[str, Optional[int]]]:
    """Read an annotation file (UTF-8 text) with :func:`parse_ann_lines`.

    The lines come from mmengine's ``list_from_file``, as in
    ``CustomDataset``.

    Args:
        path (str): Path of the file.
        with_label (bool): See :func:`parse_ann_lines`. Defaults to True.

    Returns:
        List[Tuple[str, Optional[int]]]: ``(path, label)`` per line.

    Raises:
        AnnotationFileError: The file cannot be read, is not UTF-8 text, or
            has a malformed line.
    """
    try:
        lines = list_from_file(path, encoding='utf-8')
    except FileNotFoundError:
        raise AnnotationFileError(f'annotation file not found: {path}') \
            from None
    except UnicodeDecodeError as err:
        raise AnnotationFileError(
            f'annotation file {path} is not UTF-8 text (byte {err.start}); '
            'save it as UTF-8') from None
    except (OSError, ValueError) as err:
        raise AnnotationFileError(
            f'cannot read annotation file {path}: {err}') from None
    return parse_ann_lines(lines, with_label, source=str(path))


def find_missing_images(filenames: Iterable[str],
                        img_prefix: str) -> List[str]:
    """Return the filenames that are not files under ``img_prefix``.

    Each folder is listed once instead of testing every file, which keeps a
    check of a million-image list fast on network file systems.

    Args:
        filenames (Iterable[str]): Paths as listed, relative to
            ``img_prefix`` (absolute paths are used as they are).
        img_prefix (str): The image folder.

    Returns:
        List[str]: The missing ones, in the given order.
    """
    listed: Dict[str, Set[str]] = {}
    missing = []
    for filename in filenames:
        path = os.path.join(img_prefix, filename)
        folder, name = os.path.split(path)
        if folder not in listed:
            try:
                with os.scandir(folder or '.') as entries:
                    listed[folder] = {e.name for e in entries if e.is_file()}
            except (OSError, ValueError):  # not a folder, name too long, ...
                listed[folder] = set()
        if name not in listed[folder]:
            missing.append(filename)
    return missing


def check_ann_file(ann_file: str,
                   img_prefix: str,
                   with_label: bool = True,
                   where: str = 'dataset') -> int:
    """Check that an annotation file parses and that its images exist.

    Args:
        ann_file (str): Path of the annotation file.
        img_prefix (str): Folder the listed paths are relative to.
        with_label (bool): See :func:`parse_ann_lines`. Defaults to True.
        where (str): Config key of the dataset, for messages.

    Returns:
        int: The number of images listed.

    Raises:
        AnnotationFileError: The file is unreadable or malformed, lists no
            image, or names images that do not exist; the message gives the
            count and the first few missing paths.
    """
    if not os.path.isfile(ann_file):
        raise AnnotationFileError(
            f'annotation file not found: {ann_file} ({where}.ann_file); '
            f'create it or set --cfg-options {where}.ann_file=PATH')
    samples = read_ann_file(ann_file, with_label)
    if not samples:
        raise AnnotationFileError(
            f'annotation file {ann_file} ({where}.ann_file) lists no images')
    missing = find_missing_images((path for path, _ in samples), img_prefix)
    if missing:
        shown = ', '.join(repr(m) for m in missing[:_SHOWN])
        raise AnnotationFileError(
            f'annotation file {ann_file} ({where}.ann_file) names '
            f'{len(missing)} of {len(samples)} images that do not exist under '
            f"'{img_prefix}', e.g. {shown}; fix the list, or point "
            f'{where}.data_root / data_prefix at the image folder')
    return len(samples)
