"""Prepare CIFAR-10 in the folder-per-class layout of mmpretrain's CustomDataset.

Output::

    <out>/train/<class>/<name>.<ext>
    <out>/test/<class>/<name>.<ext>
    <out>/.prepared          JSON marker, written last

Accepted sources (``--src``):

* the folder-per-class archive ``cifar10-jpg.tar.gz`` (members
  ``cifar10/{train,test}/<class>/<nnnn>.jpg``): JPEG bytes are copied as they are;
* the official ``cifar-10-python.tar.gz`` (pickled batches): images are written as
  lossless PNGs named ``<nnnn>.png`` per class, in batch order;
* an already-extracted directory of either.

The output is built in a hidden sibling directory and renamed into place, so an
interrupted run never leaves an ``<out>`` that looks complete. A rerun with the same
arguments finds the marker and returns at once.

Example::

    python tools/dataset_converters/prepare_cifar10.py --per-class 100 --out /tmp/c10
"""
from __future__ import annotations

import argparse
import json
import pickle
import re
import shutil
import sys
import tarfile
import zlib
from pathlib import Path
from typing import Any, Callable, Dict, IO, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')
SPLITS = ('train', 'test')
OFFICIAL_BATCHES = {'train': [f'data_batch_{i}' for i in range(1, 6)],
                    'test': ['test_batch']}
MARKER = '.prepared'
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SRC = REPO_ROOT.parent / 'shared' / 'data' / 'cifar10-jpg.tar.gz'
FALLBACK_SRC = REPO_ROOT / 'data' / 'cifar-10-python.tar.gz'
DEFAULT_OUT = REPO_ROOT / 'data' / 'cifar10'
OFFICIAL_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'

# <optional top folder>/<split>/<class>/<file>.jpg|png; the file name is reused as is,
# so only plain names are accepted (no path tricks from the archive).
_IMAGE_MEMBER = re.compile(
    r'^(?:\./)?(?:[^/]+/)?(train|test)/([^/]+)/([\w-]+\.(?:jpe?g|png))$', re.I)
_BATCH_MEMBER = re.compile(
    r'^(?:\./)?(?:[^/]+/)?(data_batch_[1-5]|test_batch|batches\.meta)$')
_CORRUPT = (tarfile.TarError, EOFError, zlib.error, OSError)

Counts = Dict[str, int]
Log = Callable[[str], None]


class PrepareError(Exception):
    """Bad input: the message names the problem and the fix in one line."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that only resolves the globals a CIFAR-10 batch needs.

    Plain ``pickle.load`` can run arbitrary code; this one refuses every global
    except numpy's array reconstruction helpers.
    """

    ALLOWED = frozenset({
        ('numpy', 'ndarray'),
        ('numpy', 'dtype'),
        ('numpy.core.multiarray', '_reconstruct'),
        ('numpy._core.multiarray', '_reconstruct'),
        ('numpy.core.multiarray', 'scalar'),
        ('numpy._core.multiarray', 'scalar'),
        ('numpy.core.numeric', '_frombuffer'),
        ('numpy._core.numeric', '_frombuffer'),
        ('_codecs', 'encode'),  # bytes pickled by Python 3 with protocol < 3
    })

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name`` if allowed, else raise ``UnpicklingError``."""
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f'forbidden global {module}.{name}')
        return super().find_class(module, name)


def load_batch(fileobj: IO[bytes], name: str = 'batch') -> Dict[str, Any]:
    """Load one official CIFAR-10 pickle with :class:`RestrictedUnpickler`.

    Args:
        fileobj: Binary file object holding the pickle.
        name: Name used in error messages.

    Returns:
        The dict with its keys decoded to ``str`` (``'data'``, ``'labels'``...).

    Raises:
        PrepareError: If the pickle references anything but numpy arrays, or is
            not a dict.
    """
    try:
        obj = RestrictedUnpickler(fileobj, encoding='bytes').load()
    except pickle.UnpicklingError as e:
        raise PrepareError(
            f'{name} is not a plain CIFAR-10 batch ({e}); refusing to unpickle it '
            f'because pickles can run code - use the official archive from '
            f'{OFFICIAL_URL}') from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise PrepareError(f'{name} is not a readable CIFAR-10 pickle ({e}); '
                           f're-download {OFFICIAL_URL}') from None
    if not isinstance(obj, dict):
        raise PrepareError(f'{name} holds a {type(obj).__name__}, not a CIFAR-10 '
                           f'batch dict; re-download {OFFICIAL_URL}')
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def batch_images(batch: Dict[str, Any], name: str) -> Tuple[np.ndarray, List[int]]:
    """Return (N×32×32×3 uint8 HWC images, labels) from a loaded batch.

    Each row of ``data`` is the R plane, then G, then B, each 32×32 row-major.
    """
    data, labels = batch.get('data'), batch.get('labels')
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2
            or data.shape[1] != 3072 or not isinstance(labels, list)
            or len(labels) != len(data)
            or not all(isinstance(x, (int, np.integer)) and 0 <= x < 10
                       for x in labels)):
        raise PrepareError(f'{name} lacks uint8 data N×3072 with N labels in 0..9; '
                           f're-download {OFFICIAL_URL}')
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _find_source(src: Path) -> Tuple[str, Any]:
    """Detect the format of ``src``: ('jpg'|'official', tar member list or root dir)."""
    if not src.exists():
        raise PrepareError(
            f'--src {src} does not exist; pass --src with the path to '
            f'cifar10-jpg.tar.gz (../shared/data/) or the official {OFFICIAL_URL}')
    if src.is_dir():
        for root in [src] + sorted(p for p in src.iterdir() if p.is_dir()):
            if (root / 'data_batch_1').is_file():
                return 'official', root
            if (root / 'train').is_dir() and (root / 'test').is_dir():
                return 'jpg', root
        raise PrepareError(
            f'{src} holds neither train/<class>/ folders nor CIFAR-10 python batches '
            f'(data_batch_1...); pass --src with a cifar10 folder or archive')
    try:
        tf = tarfile.open(src, 'r:*')
    except tarfile.ReadError:
        raise PrepareError(
            f'{src} is not a tar archive (gz, bz2, xz or plain); pass --src with '
            f'cifar10-jpg.tar.gz, cifar-10-python.tar.gz or an extracted folder'
        ) from None
    try:
        with tf:
            members = [m for m in tf.getmembers() if m.isfile()]
            # tarfile stops quietly at a garbled header; reading the compressed
            # stream to its end makes gzip/bz2/xz verify their checksums.
            while tf.fileobj.read(1 << 20):
                pass
    except _CORRUPT as e:
        raise PrepareError(f'{src} is corrupt or truncated ({e}); copy or download '
                           f'it again') from None
    names = {m.name for m in members}
    if any(_BATCH_MEMBER.match(n) for n in names):
        return 'official', members
    if any(_IMAGE_MEMBER.match(n) for n in names):
        return 'jpg', members
    raise PrepareError(
        f'{src} is neither cifar10-jpg.tar.gz (cifar10/train/<class>/*.jpg) nor the '
        f'official cifar-10-python.tar.gz (data_batch_1...); pass --src with one of '
        f'them')


def _select_images(entries: Dict[Tuple[str, str, str], Any], src: Path,
                   per_class: Optional[int]) -> List[Tuple[str, str, str, Any]]:
    """Keep the first ``per_class`` names (sorted) of every split/class."""
    groups: Dict[Tuple[str, str], List[str]] = {}
    for split, cls, name in entries:
        groups.setdefault((split, cls), []).append(name)
    selected = []
    for split in SPLITS:
        for cls in CLASSES:
            names = sorted(groups.get((split, cls), []))
            if not names:
                raise PrepareError(
                    f'class folder {split}/{cls}/ is missing or empty in {src}; '
                    f'the copy is incomplete - get a complete cifar10-jpg.tar.gz')
            selected += [(split, cls, n, entries[split, cls, n])
                         for n in names[:per_class]]
    return selected


def _write_jpg(kind_src: Any, src: Path, tmp: Path, per_class: Optional[int],
               log: Log) -> Counts:
    """Copy the images of a folder-per-class archive or folder, bytes unchanged."""
    counts = dict.fromkeys(SPLITS, 0)
    if isinstance(kind_src, Path):  # extracted directory
        entries = {(s, c, p.name): p for s in SPLITS for c in CLASSES
                   for p in (kind_src / s / c).glob('*')
                   if p.is_file() and _IMAGE_MEMBER.match(f'{s}/{c}/{p.name}')}
        for split, cls, name, path in _select_images(entries, src, per_class):
            shutil.copyfile(path, tmp / split / cls / name)
            counts[split] += 1
            _progress(counts, log)
        return counts
    entries = {}
    for m in kind_src:
        match = _IMAGE_MEMBER.match(m.name)
        if match and match.group(2) in CLASSES:
            entries[match.group(1), match.group(2), match.group(3)] = m
    selected = _select_images(entries, src, per_class)
    selected.sort(key=lambda item: item[3].offset_data)  # read the gzip stream forward
    try:
        with tarfile.open(src, 'r:*') as tf:
            for split, cls, name, member in selected:
                (tmp / split / cls / name).write_bytes(tf.extractfile(member).read())
                counts[split] += 1
                _progress(counts, log)
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise PrepareError(
            f'{src} is corrupt ({e}); copy or download it again') from None
    return counts


def _write_official(kind_src: Any, src: Path, tmp: Path, per_class: Optional[int],
                    log: Log) -> Counts:
    """Decode the official python batches into lossless PNGs."""
    if isinstance(kind_src, Path):
        files = {p.name: p for p in kind_src.iterdir() if p.is_file()}
    else:
        matches = ((_BATCH_MEMBER.match(m.name), m) for m in kind_src)
        files = {match.group(1): m for match, m in matches if match}
    needed = ['batches.meta'] + OFFICIAL_BATCHES['train'] + OFFICIAL_BATCHES['test']
    missing = [n for n in needed if n not in files]
    if missing:
        raise PrepareError(f'{src} lacks {", ".join(missing)}; it is an incomplete '
                           f'CIFAR-10 python archive - download {OFFICIAL_URL} again')
    counts = dict.fromkeys(SPLITS, 0)
    tf = None if isinstance(kind_src, Path) else tarfile.open(src, 'r:*')
    try:
        def read(name: str) -> Dict[str, Any]:
            with (open(files[name], 'rb') if tf is None
                  else tf.extractfile(files[name])) as f:
                return load_batch(f, f'{src}:{name}')

        label_names = [n.decode() if isinstance(n, bytes) else n
                       for n in read('batches.meta').get('label_names', [])]
        if tuple(label_names) != CLASSES:
            raise PrepareError(f'{src}: batches.meta label_names {label_names} are not '
                               f'the CIFAR-10 classes; download {OFFICIAL_URL}')
        for split in SPLITS:
            per = dict.fromkeys(CLASSES, 0)
            for name in OFFICIAL_BATCHES[split]:
                if per_class is not None and min(per.values()) >= per_class:
                    break
                images, labels = batch_images(read(name), f'{src}:{name}')
                for img, label in zip(images, labels):
                    cls = CLASSES[label]
                    if per_class is not None and per[cls] >= per_class:
                        continue
                    Image.fromarray(img, 'RGB').save(
                        tmp / split / cls / f'{per[cls]:04d}.png', format='PNG')
                    per[cls] += 1
                    counts[split] += 1
                    _progress(counts, log)
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise PrepareError(f'{src} is corrupt ({e}); download it again') from None
    finally:
        if tf is not None:
            tf.close()
    return counts


def _progress(counts: Counts, log: Log) -> None:
    total = sum(counts.values())
    if total % 10000 == 0:
        log(f'  {total} images written ({_fmt(counts)})')


def _fmt(counts: Counts) -> str:
    return ' '.join(f'{split}={n}' for split, n in counts.items())


def _read_marker(out: Path, src: Path,
                 per_class: Optional[int]) -> Optional[Dict[str, Any]]:
    """Return the marker of ``out`` if it matches the arguments and the files."""
    try:
        marker = json.loads((out / MARKER).read_text())
        counts = marker['counts']
        if (marker['source'] != str(src) or marker['per_class'] != per_class
                or any(sum(1 for _ in (out / s).glob('*/*')) != counts[s]
                       for s in SPLITS)):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return marker


def _is_replaceable(out: Path) -> bool:
    """Only a folder this script could have made may be replaced."""
    return not out.exists() or (out.is_dir() and all(
        p.name in (*SPLITS, MARKER) for p in out.iterdir()))


def prepare_cifar10(src: Path | str, out: Path | str, per_class: Optional[int] = None,
                    force: bool = False, log: Log = print) -> Counts:
    """Write CIFAR-10 as ``<out>/{train,test}/<class>/`` image folders.

    Args:
        src: ``cifar10-jpg.tar.gz``, ``cifar-10-python.tar.gz`` or an extracted
            folder of either.
        out: Output folder. It is replaced as a whole, so it may only hold
            ``train/``, ``test/`` and the marker.
        per_class: Keep only the first N images per class and split (by name for
            JPEG folders, by batch order for the official batches). None keeps all.
        force: Rebuild even if the marker says ``out`` is already prepared.
        log: Where progress lines go.

    Returns:
        Number of images per split, e.g. ``{'train': 50000, 'test': 10000}``.

    Raises:
        PrepareError: On bad input (missing, corrupt or unrecognised source).
    """
    src, out = Path(src).resolve(), Path(out).resolve()
    if per_class is not None and per_class < 1:
        raise PrepareError(f'--per-class must be at least 1, got {per_class}')
    if out == src or src.is_relative_to(out) or out.is_relative_to(src):
        raise PrepareError(f'--out {out} overlaps --src {src}; choose another --out')
    marker = _read_marker(out, src, per_class)
    if marker and not force:
        log(f'already prepared: {out} ({_fmt(marker["counts"])})')
        return dict(marker['counts'])
    if not _is_replaceable(out):
        raise PrepareError(f'--out {out} exists and holds more than train/ and test/; '
                           f'remove it or choose another --out')
    kind, kind_src = _find_source(src)
    log(f'preparing CIFAR-10 from {src} ({kind}) into {out}')
    tmp = out.parent / f'.{out.name}.partial'
    shutil.rmtree(tmp, ignore_errors=True)  # left over from a killed run
    try:
        for split in SPLITS:
            for cls in CLASSES:
                (tmp / split / cls).mkdir(parents=True)
        writer = _write_jpg if kind == 'jpg' else _write_official
        counts = writer(kind_src, src, tmp, per_class, log)
        (tmp / MARKER).write_text(json.dumps(
            {'source': str(src), 'format': kind, 'per_class': per_class,
             'counts': counts}, indent=2) + '\n')
        old = out.parent / f'.{out.name}.old'
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f'done: {out} {_fmt(counts)}')
    return counts


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    default_src = (FALLBACK_SRC if not DEFAULT_SRC.exists() and FALLBACK_SRC.exists()
                   else DEFAULT_SRC)
    parser = argparse.ArgumentParser(
        description='Prepare CIFAR-10 as <out>/{train,test}/<class>/ image folders '
                    "for mmpretrain's CustomDataset. Idempotent: a rerun with the "
                    'same arguments is a no-op.')
    parser.add_argument(
        '--src', type=Path, default=default_src,
        help='cifar10-jpg.tar.gz (JPEGs copied unchanged), the official '
             'cifar-10-python.tar.gz (written as PNG), or an extracted folder of '
             f'either (default: {default_src})')
    parser.add_argument('--out', type=Path, default=DEFAULT_OUT,
                        help=f'output folder (default: {DEFAULT_OUT})')
    parser.add_argument('--per-class', type=int, default=None, metavar='N',
                        help='keep only the first N images per class and split')
    parser.add_argument('--force', action='store_true',
                        help='rebuild even if <out> is already prepared')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit code (2 on bad input)."""
    args = parse_args(argv)
    try:
        prepare_cifar10(args.src, args.out, args.per_class, args.force)
    except (PrepareError, OSError) as e:
        message = ' '.join(str(e).split())  # always one line
        print(f'prepare_cifar10: error: {message}', file=sys.stderr)
        return 2 if isinstance(e, PrepareError) else 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
