"""Label subsets for semi-supervised evaluation, as annotation files.

An annotation file lists one labelled image a line, ``<class>/<file>
<label>``, relative to the split folder: what mmpretrain's ``CustomDataset``
reads with ``data_prefix='train'`` and ``ann_file='meta/<file>.txt'`` (it
splits every line at its last space and joins the path to
``data_root/data_prefix``). The label
is the index of the class folder among the sorted folder names, the index
``CustomDataset`` gives that folder when it reads a split without an
annotation file, so a model fine-tuned on a subset is tested on the full test
split with the same labels.

Commands::

    # a class-balanced subset drawn with a seed (CIFAR-10: 10% = 500 a class)
    python tools/dataset_converters/make_label_subset.py sample \\
        data/cifar10/train --fraction 0.1 --seed 0
    # -> data/cifar10/meta/train_10pct_seed0.txt
    #    (--per-class 50 -> train_50perclass_seed0.txt)

    # SimCLR's ImageNet subsets (google-research/simclr, imagenet_subsets/
    # 1percent.txt and 10percent.txt: a file name a line, n01440764_10026.JPEG)
    python tools/dataset_converters/make_label_subset.py from-list \\
        data/imagenet/train 1percent.txt
    # -> data/imagenet/meta/train_1percent.txt

    # verify a file: its format, its labels, and that every image exists
    python tools/dataset_converters/make_label_subset.py check \\
        data/cifar10/train data/cifar10/meta/train_10pct_seed0.txt

Subsets drawn with ``sample`` are class-balanced (the same number of images
from every class) and deterministic: a class keeps its images with the
smallest SHA-256 of ``'<seed>/<class>/<class>/<file>'`` (:func:`draw_key`),
so the same folder, size and seed give the same file on any machine and
Python or numpy version. For one seed they are nested (the 1% subset is part
of the 10% subset: both take the front of the same order); another seed
gives another draw. Every file is
checked when it is written, so it never names an image that is not there.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# Runs from a checkout without installing mmseed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

__all__ = [
    'LabelSubsetError', 'SIMCLR_SUBSETS_URL', 'check_annotation',
    'convert_name_list', 'draw_key', 'list_split', 'make_subset_file',
    'parse_subset_file_name', 'sample_subset', 'subset_file_name',
    'write_annotation'
]

SIMCLR_SUBSETS_URL = ('https://github.com/google-research/simclr/tree/master/'
                      'imagenet_subsets')

Entry = Tuple[str, int]  # (path relative to the split folder, label)

_SUBSET_NAME = re.compile(
    r'^(?P<split>.+)_(?:(?P<pct>\d+(?:\.\d+)?)pct|(?P<per_class>\d+)perclass)'
    r'_seed(?P<seed>\d+)\.txt$')


class LabelSubsetError(ValueError):
    """Bad input or a bad annotation file; the message says what to fix."""


def _custom_dataset_extensions() -> Tuple[str, ...]:
    """The image extensions ``CustomDataset`` accepts by default."""
    from mmpretrain.datasets import CustomDataset
    default = inspect.signature(CustomDataset).parameters['extensions'].default
    return tuple(ext.lower() for ext in default)


def _class_folders(split_dir: Path) -> Tuple[List[str], Dict[str, int]]:
    """Class folder names and their labels, as ``CustomDataset`` finds them."""
    from mmpretrain.datasets.custom import find_folders
    return find_folders(str(split_dir))


def list_split(
        split_dir: Path | str) -> Tuple[List[str], Dict[str, List[str]]]:
    """List a folder-per-class split as ``CustomDataset`` lists it.

    Args:
        split_dir: The split folder, e.g. ``data/cifar10/train``.

    Returns:
        The class folder names in label order (sorted), and for every class
        its image paths relative to ``split_dir`` (sorted), with the image
        extensions and the recursive search of ``CustomDataset``.

    Raises:
        LabelSubsetError: The folder is missing or holds no class folders.
    """
    from mmpretrain.datasets.custom import get_samples
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise LabelSubsetError(
            f'split folder not found: {split_dir}; give the folder that holds '
            'one sub-folder per class (e.g. data/cifar10/train, written by '
            'tools/dataset_converters/prepare_cifar10.py)')
    classes, folder_to_idx = _class_folders(split_dir)
    if not classes:
        raise LabelSubsetError(
            f'{split_dir} has no class folders; give the folder that holds '
            'one sub-folder per class (<split>/<class>/<image>)')
    extensions = _custom_dataset_extensions()
    samples, _ = get_samples(
        str(split_dir), folder_to_idx,
        is_valid_file=lambda name: name.lower().endswith(extensions))
    images: Dict[str, List[str]] = {name: [] for name in classes}
    for path, label in samples:
        images[classes[label]].append(Path(path).as_posix())
    return classes, images


def draw_key(seed: int, class_name: str, path: str) -> str:
    """The sort key that orders a class's images in a draw.

    The hex SHA-256 of ``'<seed>/<class>/<path>'``, ``path`` relative to
    the split folder as in the annotation file: it depends on nothing
    else (not the Python hash seed, the numpy version or the other files), so
    a subset can be recomputed anywhere.
    """
    return hashlib.sha256(f'{seed}/{class_name}/{path}'.encode()).hexdigest()


def sample_subset(images: Dict[str, List[str]],
                  fraction: Optional[float] = None,
                  per_class: Optional[int] = None,
                  seed: int = 0) -> List[Entry]:
    """Draw a class-balanced label subset.

    Every class contributes the same number of images, ``per_class`` or
    ``round(fraction * total / num_classes)``: those with the smallest
    :func:`draw_key`. For one seed a smaller subset is therefore part of a
    larger one.

    Args:
        images: Class name -> image paths, as :func:`list_split` returns.
            Labels are the positions of the classes in sorted order.
        fraction: Share of all images to keep, in (0, 1].
        per_class: Number of images to keep per class (instead of fraction).
        seed: Seed of the draw, >= 0.

    Returns:
        ``(path, label)`` pairs, by label, then path.

    Raises:
        LabelSubsetError: Neither or both sizes given, a size out of range,
            or a class with fewer images than the subset needs.
    """
    if (fraction is None) == (per_class is None):
        raise LabelSubsetError(
            'give exactly one of --fraction and --per-class')
    if not images:
        raise LabelSubsetError('no classes to draw from')
    total = sum(len(paths) for paths in images.values())
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise LabelSubsetError(
                f'--fraction must be in (0, 1], got {fraction} (10% is 0.1)')
        per_class = round(fraction * total / len(images))
        if per_class < 1:
            raise LabelSubsetError(
                f'--fraction {fraction} of {total} images in {len(images)} '
                'classes leaves no image per class; use a larger fraction '
                'or --per-class')
    elif per_class < 1:
        raise LabelSubsetError(f'--per-class must be at least 1, got '
                               f'{per_class}')
    if seed < 0:
        raise LabelSubsetError(f'--seed must be >= 0, got {seed}')
    entries = []
    for label, name in enumerate(sorted(images)):
        paths = images[name]
        if len(paths) < per_class:
            raise LabelSubsetError(
                f'class {name} has {len(paths)} images, fewer than the '
                f'{per_class} per class this subset needs; ask for fewer')
        drawn = sorted(paths, key=lambda path: draw_key(seed, name, path))
        entries += [(path, label) for path in sorted(drawn[:per_class])]
    return entries


def subset_file_name(split: str = 'train',
                     fraction: Optional[float] = None,
                     per_class: Optional[int] = None,
                     seed: int = 0) -> str:
    """Name of a sampled subset file: ``train_10pct_seed0.txt`` or
    ``train_50perclass_seed0.txt``; :func:`parse_subset_file_name` reverses
    it."""
    if (fraction is None) == (per_class is None):
        raise LabelSubsetError('give exactly one of fraction and per_class')
    size = (f'{fraction * 100:g}pct' if fraction is not None else
            f'{per_class}perclass')
    return f'{split}_{size}_seed{seed}.txt'


def parse_subset_file_name(name: str) -> Optional[dict]:
    """Read split, size and seed back from a :func:`subset_file_name` name.

    Args:
        name: A file name (a path's last part is used).

    Returns:
        ``dict(split=, fraction=, per_class=, seed=)`` (one of fraction and
        per_class is None), or None for a name of another form.
    """
    found = _SUBSET_NAME.match(Path(name).name)
    if not found:
        return None
    pct, per_class = found['pct'], found['per_class']
    return dict(split=found['split'],
                fraction=float(pct) / 100 if pct else None,
                per_class=int(per_class) if per_class else None,
                seed=int(found['seed']))


def write_annotation(entries: Sequence[Entry], path: Path | str) -> Path:
    """Write ``<path> <label>`` lines; the folder is created if needed."""
    path = Path(path)
    for rel, _ in entries:
        if '\n' in rel or rel != rel.strip():
            raise LabelSubsetError(f'image path {rel!r} cannot be written to '
                                   'an annotation file (edge spaces or line '
                                   'breaks); rename the file')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(f'{rel} {label}\n' for rel, label in entries))
    return path


def _check_entries(entries: Sequence[Entry], split_dir: Path, source: str,
                   fix: str) -> None:
    """Raise if an image is missing or a label does not fit ``split_dir``."""
    from mmseed.datasets import find_missing_images
    if not split_dir.is_dir():
        raise LabelSubsetError(
            f'image folder not found: {split_dir} (for {source}); point '
            'data_root at the data it was made for')
    if not entries:
        raise LabelSubsetError(f'{source} lists no images; {fix}')
    classes, index = _class_folders(split_dir)
    missing = find_missing_images((rel for rel, _ in entries), str(split_dir))
    if missing:
        raise LabelSubsetError(
            f'{source} names {len(missing)} of {len(entries)} images that are '
            f'not in {split_dir} (e.g. {", ".join(missing[:3])}); {fix}')
    bad = [f'{rel} {label}' for rel, label in entries
           if not 0 <= label < len(classes)
           or index.get(Path(rel).parts[0], label) != label]
    if bad:
        raise LabelSubsetError(
            f'{source} has {len(bad)} labels that do not match the '
            f'{len(classes)} class folders of {split_dir} in sorted order '
            f'(e.g. {", ".join(bad[:3])}); {fix}')


def check_annotation(path: Path | str, split_dir: Path | str) -> int:
    """Check that an annotation file fits a split folder.

    Every line must read as ``<path> <label>`` (parsed by
    :func:`mmseed.datasets.read_ann_file`, as ``CustomDataset`` parses it),
    every image must exist under ``split_dir``, every label must be a class
    of ``split_dir``, and an image inside a class folder must carry that
    folder's label.

    Args:
        path: The annotation file.
        split_dir: The folder its paths are relative to (``data_root`` joined
            with ``data_prefix``).

    Returns:
        The number of images it lists.

    Raises:
        LabelSubsetError: The first kind of problem found, with up to three
            examples and how to fix it.
    """
    from mmseed.datasets import AnnotationFileError, read_ann_file
    fix = (f'regenerate {path} from {split_dir} with '
           'tools/dataset_converters/make_label_subset.py, or point data_root '
           'at the data it was made for')
    try:
        entries = read_ann_file(str(path))
    except AnnotationFileError as err:
        raise LabelSubsetError(f'{err}; {fix}') from None
    _check_entries(entries, Path(split_dir), str(path), fix)
    return len(entries)


def make_subset_file(split_dir: Path | str,
                     fraction: Optional[float] = None,
                     per_class: Optional[int] = None,
                     seed: int = 0,
                     out: Optional[Path | str] = None) -> Tuple[Path, int]:
    """Draw a subset of a split folder, write it and check it.

    Args:
        split_dir: e.g. ``data/cifar10/train``.
        fraction, per_class, seed: As :func:`sample_subset`.
        out: Output file; defaults to
            ``<split_dir>/../meta/<subset_file_name(...)>``.

    Returns:
        The file written and the number of images in it.
    """
    split_dir = Path(split_dir)
    _, images = list_split(split_dir)
    entries = sample_subset(images, fraction, per_class, seed)
    if out is None:
        out = split_dir.parent / 'meta' / subset_file_name(
            split_dir.name, fraction, per_class, seed)
    out = write_annotation(entries, out)
    return out, check_annotation(out, split_dir)


def convert_name_list(split_dir: Path | str,
                      list_file: Path | str,
                      out: Optional[Path | str] = None) -> Tuple[Path, int]:
    """Turn a list of image names into an annotation file and check it.

    A line is a file name whose class is the part before the first ``_``
    (SimCLR's ImageNet lists: ``n01440764_10026.JPEG`` is in
    ``n01440764/``), or a ``<class>/<file>`` path.

    Args:
        split_dir: The split folder, e.g. ``data/imagenet/train``.
        list_file: The list, e.g. SimCLR's ``1percent.txt``.
        out: Output file; defaults to
            ``<split_dir>/../meta/<split>_<list name>.txt``.

    Returns:
        The file written and the number of images in it.
    """
    split_dir, list_file = Path(split_dir), Path(list_file)
    if not list_file.is_file():
        raise LabelSubsetError(
            f'subset list not found: {list_file}; for ImageNet download '
            f'1percent.txt / 10percent.txt from {SIMCLR_SUBSETS_URL}')
    if not split_dir.is_dir():
        raise LabelSubsetError(f'split folder not found: {split_dir}; give '
                               'the folder with one sub-folder per class')
    _, index = _class_folders(split_dir)
    entries = []
    for number, line in enumerate(list_file.read_text().splitlines(), 1):
        name = line.strip()
        if not name:
            continue
        rel = name if '/' in name else f'{name.split("_", 1)[0]}/{name}'
        cls = rel.split('/', 1)[0]
        if cls not in index:
            raise LabelSubsetError(
                f'{list_file}, line {number}: class folder {cls}/ of {name} '
                f'is not in {split_dir}; give the split folder the list was '
                'made for (ImageNet: data/imagenet/train)')
        entries.append((rel, index[cls]))
    if not entries:
        raise LabelSubsetError(f'subset list {list_file} is empty')
    _check_entries(entries, split_dir, str(list_file),
                   'give the split folder the list was made for')
    if out is None:
        out = split_dir.parent / 'meta' / (
            f'{split_dir.name}_{list_file.stem}.txt')
    out = write_annotation(entries, out)
    return out, check_annotation(out, split_dir)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Write label-subset annotation files for mmpretrain\'s '
        'CustomDataset ("<class>/<file> <label>" lines), or check one.')
    commands = parser.add_subparsers(dest='command', required=True)
    sample = commands.add_parser(
        'sample', help='draw a class-balanced subset with a seed')
    sample.add_argument('split_dir', type=Path,
                        help='split folder with one sub-folder per class')
    size = sample.add_mutually_exclusive_group(required=True)
    size.add_argument('--fraction', type=float,
                      help='share of the images to keep, e.g. 0.1 for 10%%')
    size.add_argument('--per-class', type=int, help='images per class')
    sample.add_argument('--seed', type=int, default=0, help='default: 0')
    sample.add_argument('--out', type=Path, help='default: <split_dir>/../'
                        'meta/<split>_<10pct|50perclass>_seed<seed>.txt')
    from_list = commands.add_parser(
        'from-list', help='convert a list of file names (SimCLR\'s ImageNet '
        '1percent.txt / 10percent.txt)')
    from_list.add_argument('split_dir', type=Path,
                           help='split folder, e.g. data/imagenet/train')
    from_list.add_argument('list_file', type=Path, help='the list')
    from_list.add_argument('--out', type=Path, help='default: <split_dir>/../'
                           'meta/<split>_<list name>.txt')
    check = commands.add_parser('check', help='check an annotation file')
    check.add_argument('split_dir', type=Path,
                       help='the folder its paths are relative to')
    check.add_argument('ann_file', type=Path, help='the annotation file')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit code (2 on bad input)."""
    args = parse_args(argv)
    try:
        if args.command == 'sample':
            out, count = make_subset_file(args.split_dir, args.fraction,
                                          args.per_class, args.seed, args.out)
            print(f'wrote {out}: {count} images (seed {args.seed})')
        elif args.command == 'from-list':
            out, count = convert_name_list(args.split_dir, args.list_file,
                                           args.out)
            print(f'wrote {out}: {count} images')
        else:
            count = check_annotation(args.ann_file, args.split_dir)
            print(f'{args.ann_file}: {count} images, all present')
    except (LabelSubsetError, OSError) as err:
        message = ' '.join(str(err).split())
        print(f'make_label_subset: error: {message}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
