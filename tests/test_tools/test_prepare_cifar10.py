"""Tests for tools/dataset_converters/prepare_cifar10.py."""
import importlib.util
import io
import json
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'tools' / 'dataset_converters' / 'prepare_cifar10.py'
REAL_ARCHIVE = REPO.parent / 'shared' / 'data' / 'cifar10-jpg.tar.gz'
CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck']


@pytest.fixture(scope='module')
def mod():
    spec = importlib.util.spec_from_file_location('prepare_cifar10', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cli(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def quiet(_msg):
    pass


# ----------------------------------------------------------------- builders
def gradient_image():
    """CHW image: R grows down the rows, G across the columns, B constant."""
    ys, xs = np.mgrid[0:32, 0:32].astype(np.uint8)
    return np.stack([ys * 8, xs * 8, np.full_like(ys, 200)])


def official_batches(seed=0):
    """Five train batches (1 image per class) and a test batch (2 per class).

    The first image of data_batch_1 is an airplane with a known gradient.
    """
    rng = np.random.default_rng(seed)
    batches = {}
    for i in range(1, 6):
        labels = [int(x) for x in rng.permutation(10)]
        labels.remove(0)
        labels = [0] + labels if i == 1 else labels + [0]
        data = rng.integers(0, 256, (10, 3072), dtype=np.uint8)
        if i == 1:
            data[0] = gradient_image().reshape(-1)
        batches[f'data_batch_{i}'] = (data, labels)
    labels = [int(x) for x in rng.permutation(20) % 10]
    batches['test_batch'] = (rng.integers(0, 256, (20, 3072), dtype=np.uint8), labels)
    return batches


def official_pickles(batches):
    out = {}
    for n, (name, (data, labels)) in enumerate(batches.items()):
        d = {b'batch_label': name.encode(), b'labels': labels, b'data': data,
             b'filenames': [f'img_{k}.png'.encode() for k in range(len(labels))]}
        out[name] = pickle.dumps(d, protocol=2 if n == 0 else 4)
    out['batches.meta'] = pickle.dumps(
        {b'num_cases_per_batch': 10, b'num_vis': 3072,
         b'label_names': [c.encode() for c in CLASSES]}, protocol=2)
    return out


def write_tar(path, members):
    """Write a tar.gz with {name: bytes} in the given order."""
    with tarfile.open(path, 'w:gz') as tf:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    return path


def make_official_tar(tmp_path, batches, replace=None):
    pickles = official_pickles(batches)
    pickles.update(replace or {})
    members = {f'cifar-10-batches-py/{k}': v for k, v in pickles.items()}
    members['cifar-10-batches-py/readme.html'] = b'<html></html>'
    return write_tar(tmp_path / 'cifar-10-python.tar.gz', members)


def jpeg_bytes(rng):
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
        buf, format='JPEG', quality=90)
    return buf.getvalue()


def jpg_members(n_train=3, n_test=2, skip=()):
    """{member name: jpeg bytes} for a folder-per-class archive, names reversed."""
    rng = np.random.default_rng(1)
    members = {}
    for split, n in (('train', n_train), ('test', n_test)):
        for cls in CLASSES:
            if (split, cls) in skip:
                continue
            for k in range(n):
                members[f'cifar10/{split}/{cls}/{k:04d}.jpg'] = jpeg_bytes(rng)
    return dict(reversed(list(members.items())))  # archive order != name order


def expected_official(batches, split, per_class=None):
    """{(class, png name): HWC pixels} in the order the batches hold them."""
    names = [f'data_batch_{i}' for i in range(1, 6)] if split == 'train' \
        else ['test_batch']
    seen, expected = {c: 0 for c in CLASSES}, {}
    for name in names:
        data, labels = batches[name]
        for row, label in zip(data, labels):
            cls = CLASSES[label]
            if per_class is None or seen[cls] < per_class:
                expected[cls, f'{seen[cls]:04d}.png'] = \
                    row.reshape(3, 32, 32).transpose(1, 2, 0)
                seen[cls] += 1
    return expected


def listing(out, split):
    return sorted((p.parent.name, p.name) for p in (out / split).glob('*/*'))


# ------------------------------------------------------------- official format
def test_official_archive_pixels_exact(mod, tmp_path):
    batches = official_batches()
    src = make_official_tar(tmp_path, batches)
    out = tmp_path / 'out'
    counts = mod.prepare_cifar10(src, out, log=quiet)
    assert counts == {'train': 50, 'test': 20}
    # Plane order and orientation, independent of any reshape logic.
    img = Image.open(out / 'train' / 'airplane' / '0000.png')
    assert img.format == 'PNG' and img.mode == 'RGB' and img.size == (32, 32)
    px = np.asarray(img)
    assert px[0, 0].tolist() == [0, 0, 200]
    assert px[5, 0].tolist() == [40, 0, 200]  # row 5: red = 5 * 8
    assert px[0, 7].tolist() == [0, 56, 200]  # column 7: green = 7 * 8
    assert px[31, 30].tolist() == [248, 240, 200]
    for split in ('train', 'test'):
        expected = expected_official(batches, split)
        assert listing(out, split) == sorted(expected)
        for (cls, name), pixels in expected.items():
            np.testing.assert_array_equal(
                np.asarray(Image.open(out / split / cls / name)), pixels)
    marker = json.loads((out / '.prepared').read_text())
    assert marker == {'source': str(src.resolve()), 'format': 'official',
                      'per_class': None, 'counts': {'train': 50, 'test': 20}}


def test_official_extracted_folder_and_per_class(mod, tmp_path):
    batches = official_batches(seed=3)
    src = make_official_tar(tmp_path, batches)
    with tarfile.open(src) as tf:
        tf.extractall(tmp_path / 'extracted', filter='data')
    out = tmp_path / 'out'
    counts = mod.prepare_cifar10(tmp_path / 'extracted', out, per_class=3, log=quiet)
    assert counts == {'train': 30, 'test': 20}  # test has only 2 per class
    for split in ('train', 'test'):
        expected = expected_official(batches, split, per_class=3)
        assert listing(out, split) == sorted(expected)
        for (cls, name), pixels in expected.items():
            np.testing.assert_array_equal(
                np.asarray(Image.open(out / split / cls / name)), pixels)


# ------------------------------------------------------------ folder format
def test_jpg_archive_bytes_identical(mod, tmp_path):
    members = jpg_members()
    src = write_tar(tmp_path / 'c10.tar.gz', {'cifar10/README': b'hi', **members})
    out = tmp_path / 'out'
    assert mod.prepare_cifar10(src, out, log=quiet) == {'train': 30, 'test': 20}
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob('*')
                   if p.is_file())
    assert files == sorted(['.prepared'] + [m[len('cifar10/'):] for m in members])
    for name, payload in members.items():
        assert (out / name[len('cifar10/'):]).read_bytes() == payload


@pytest.mark.parametrize('as_folder', [False, True])
def test_jpg_per_class_takes_first_names(mod, tmp_path, as_folder):
    members = jpg_members(n_train=4, n_test=3)
    src = write_tar(tmp_path / 'c10.tar.gz', members)
    if as_folder:
        with tarfile.open(src) as tf:
            tf.extractall(tmp_path / 'x', filter='data')
        src = tmp_path / 'x'  # holds cifar10/train/..., found one level down
    out = tmp_path / 'out'
    assert mod.prepare_cifar10(src, out, per_class=2, log=quiet) == \
        {'train': 20, 'test': 20}
    for split in ('train', 'test'):
        assert listing(out, split) == sorted(
            (c, n) for c in CLASSES for n in ('0000.jpg', '0001.jpg'))
    name = 'cifar10/test/ship/0001.jpg'
    assert (out / 'test/ship/0001.jpg').read_bytes() == members[name]


# ----------------------------------------------------------- idempotence
def test_marker_makes_rerun_noop_and_changes_rebuild(mod, tmp_path):
    src = write_tar(tmp_path / 'c10.tar.gz', jpg_members())
    out = tmp_path / 'out'
    mod.prepare_cifar10(src, out, per_class=2, log=quiet)
    probe = out / 'train' / 'cat' / '0000.jpg'
    inode = probe.stat().st_ino

    lines = []
    assert mod.prepare_cifar10(src, out, per_class=2, log=lines.append) == \
        {'train': 20, 'test': 20}
    assert lines == [f'already prepared: {out} (train=20 test=20)']
    assert probe.stat().st_ino == inode

    mod.prepare_cifar10(src, out, per_class=2, force=True, log=quiet)
    assert probe.stat().st_ino != inode

    assert mod.prepare_cifar10(src, out, per_class=1, log=quiet) == \
        {'train': 10, 'test': 10}
    assert json.loads((out / '.prepared').read_text())['per_class'] == 1
    assert listing(out, 'train') == sorted((c, '0000.jpg') for c in CLASSES)

    # A removed marker (as after an interrupted run) means: rebuild.
    (out / '.prepared').unlink()
    (out / 'test' / 'dog' / '0000.jpg').unlink()
    assert mod.prepare_cifar10(src, out, per_class=1, log=quiet) == \
        {'train': 10, 'test': 10}
    assert (out / 'test' / 'dog' / '0000.jpg').is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['c10.tar.gz', 'out']


def test_interrupted_run_leaves_no_output(mod, tmp_path, monkeypatch):
    src = write_tar(tmp_path / 'c10.tar.gz', jpg_members())
    out = tmp_path / 'out'
    calls = []

    def die(counts, log):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt

    monkeypatch.setattr(mod, '_progress', die)
    with pytest.raises(KeyboardInterrupt):
        mod.prepare_cifar10(src, out, log=quiet)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['c10.tar.gz']
    # A leftover partial dir from a SIGKILLed run is cleared by the next run.
    stale = tmp_path / '.out.partial' / 'train' / 'cat' / '9999.jpg'
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b'half-written')
    monkeypatch.undo()
    assert mod.prepare_cifar10(src, out, log=quiet) == {'train': 30, 'test': 20}
    assert listing(out, 'train') == sorted(
        (c, f'{k:04d}.jpg') for c in CLASSES for k in range(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['c10.tar.gz', 'out']


def test_refuses_to_replace_foreign_folder(mod, tmp_path):
    src = write_tar(tmp_path / 'c10.tar.gz', jpg_members())
    out = tmp_path / 'mine'
    out.mkdir()
    (out / 'notes.txt').write_text('keep me')
    with pytest.raises(mod.PrepareError, match='holds more than train/ and test/'):
        mod.prepare_cifar10(src, out, force=True, log=quiet)
    assert (out / 'notes.txt').read_text() == 'keep me'


# ------------------------------------------------------------ malicious pickle
class Evil:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return os.system, (f'touch {self.sentinel}',)


class EvilExec(Evil):
    def __reduce__(self):
        return exec, (f'open({str(self.sentinel)!r}, "w").close()',)


@pytest.mark.parametrize('cls,protocol,forbidden', [
    (Evil, 2, f'{os.name}.system'),
    (EvilExec, 2, '__builtin__.exec'),  # protocol 2 uses Python 2 names
    (EvilExec, 4, 'builtins.exec'),
])
def test_malicious_pickle_refused(mod, tmp_path, cls, protocol, forbidden):
    sentinel = tmp_path / 'pwned'
    payload = pickle.dumps({b'data': cls(sentinel)}, protocol=protocol)
    with pytest.raises(mod.PrepareError) as err:
        mod.load_batch(io.BytesIO(payload), 'data_batch_1')
    assert f'forbidden global {forbidden}' in str(err.value)
    assert 'refusing to unpickle' in str(err.value)
    assert not sentinel.exists()

    src = make_official_tar(tmp_path, official_batches(),
                            replace={'data_batch_1': payload})
    res = run_cli('--src', src, '--out', tmp_path / 'out')
    assert res.returncode == 2, res.stderr
    assert 'Traceback' not in res.stderr
    assert res.stderr.count('\n') == 1 and 'refusing to unpickle' in res.stderr
    assert not sentinel.exists()
    assert not (tmp_path / 'out').exists()


def test_restricted_unpickler_loads_numpy_arrays(mod):
    data = np.arange(3072 * 2, dtype=np.uint8).reshape(2, 3072)
    for protocol in (2, 4, 5):
        batch = mod.load_batch(io.BytesIO(pickle.dumps(
            {b'data': data, b'labels': [3, 9]}, protocol=protocol)))
        np.testing.assert_array_equal(batch['data'], data)
        assert batch['labels'] == [3, 9]


# ------------------------------------------------------------ bad input CLI
def bad_sources(tmp_path):
    text = tmp_path / 'notes.txt'
    text.write_text('not an archive')
    empty = tmp_path / 'empty_dir'
    empty.mkdir()
    other = write_tar(tmp_path / 'other.tar.gz', {'foo/bar.txt': b'x'})
    no_truck = write_tar(tmp_path / 'no_truck.tar.gz',
                         jpg_members(skip={('test', 'truck')}))
    rng = np.random.default_rng(0)
    full = write_tar(tmp_path / 'full.tar.gz', {
        f'cifar10/train/cat/{k:04d}.jpg': rng.bytes(5000) for k in range(20)})
    truncated = tmp_path / 'truncated.tar.gz'
    truncated.write_bytes(full.read_bytes()[:50000])
    flipped = tmp_path / 'flipped.tar.gz'
    raw = bytearray(full.read_bytes())
    raw[60000:60008] = bytes(8)
    flipped.write_bytes(raw)
    return {
        'missing': (tmp_path / 'nope.tar.gz', 'does not exist; pass --src'),
        'text file': (text, 'is not a tar archive'),
        'empty folder': (empty, 'holds neither train/<class>/ folders'),
        'other tar': (other, 'is neither cifar10-jpg.tar.gz'),
        'class missing': (no_truck, 'class folder test/truck/ is missing'),
        'truncated': (truncated, 'is corrupt or truncated'),
        'flipped bytes': (flipped, 'is corrupt'),
    }


@pytest.mark.parametrize('case', ['missing', 'text file', 'empty folder', 'other tar',
                                  'class missing', 'truncated', 'flipped bytes'])
def test_bad_input_exit_2_one_line(tmp_path, case):
    src, message = bad_sources(tmp_path)[case]
    res = run_cli('--src', src, '--out', tmp_path / 'out')
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert 'Traceback' not in res.stderr
    assert res.stderr.count('\n') == 1, res.stderr
    assert res.stderr.startswith('prepare_cifar10: error: ')
    assert message in res.stderr
    assert not (tmp_path / 'out').exists()


def test_help_and_defaults(mod, tmp_path, monkeypatch):
    res = run_cli('--help')
    assert res.returncode == 0 and '--per-class N' in res.stdout
    args = mod.parse_args([])
    assert args.out == REPO / 'data' / 'cifar10' and args.per_class is None
    assert not args.force
    fallback = tmp_path / 'cifar-10-python.tar.gz'
    fallback.write_bytes(b'')
    monkeypatch.setattr(mod, 'DEFAULT_SRC', tmp_path / 'absent.tar.gz')
    monkeypatch.setattr(mod, 'FALLBACK_SRC', fallback)
    assert mod.parse_args([]).src == fallback
    monkeypatch.setattr(mod, 'DEFAULT_SRC', REAL_ARCHIVE)
    assert mod.parse_args(['--src', 'x.tar']).src == Path('x.tar')


# ------------------------------------------------------------ real archive
@pytest.mark.skipif(not REAL_ARCHIVE.is_file(),
                    reason=f'real archive {REAL_ARCHIVE} not present')
def test_real_archive_slice(mod, tmp_path, capsys):
    out = tmp_path / 'cifar10'
    assert mod.main(['--src', str(REAL_ARCHIVE), '--out', str(out),
                     '--per-class', '3']) == 0
    assert capsys.readouterr().out.splitlines()[-1] == \
        f'done: {out} train=30 test=30'
    with tarfile.open(REAL_ARCHIVE) as tf:
        reference = tf.extractfile('cifar10/train/horse/0002.jpg').read()
    assert (out / 'train/horse/0002.jpg').read_bytes() == reference
    for split in ('train', 'test'):
        assert listing(out, split) == sorted(
            (c, f'{k:04d}.jpg') for c in CLASSES for k in range(3))
        for path in (out / split).glob('*/*'):
            with Image.open(path) as img:
                assert (img.format, img.mode, img.size) == ('JPEG', 'RGB', (32, 32))
    assert mod.main(['--src', str(REAL_ARCHIVE), '--out', str(out),
                     '--per-class', '3']) == 0
    assert capsys.readouterr().out == \
        f'already prepared: {out} (train=30 test=30)\n'
