"""Convert a teacher checkpoint (MoCo, SwAV, SimCLR, torchvision, ...) to mmseed.

Usage::

    python tools/model_converters/convert_teacher.py SRC DST [--format auto]

DST holds ``{'state_dict': {backbone.*, neck.*}, 'meta': {...}}``, which a
teacher config loads with ``model.teacher.checkpoint=DST``.
"""
import argparse
import sys
from pathlib import Path

# Runs from a checkout without installing mmseed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmseed.models.teachers.checkpoint_formats import (  # noqa: E402
    FORMATS, convert_to_teacher_state_dict)
from mmseed.utils.checkpoint import (CheckpointError,  # noqa: E402
                                     atomic_torch_save, load_checkpoint_file)
from mmseed.utils.cli import run_with_clear_errors  # noqa: E402

__all__ = ['convert', 'main']


def convert(src: str, dst: str, fmt: str = 'auto') -> dict:
    """Convert ``src`` to an mmseed teacher file at ``dst``.

    Args:
        src (str): Source checkpoint.
        dst (str): Output file; its folder is created if needed.
        fmt (str): Source format, or ``'auto'`` to detect it.

    Returns:
        dict: What was written.

    Raises:
        CheckpointError: The source cannot be read or converted, or the
            output cannot be written.
    """
    state, fmt = convert_to_teacher_state_dict(load_checkpoint_file(src), fmt)
    out = {
        'state_dict': state,
        'meta': {'mmseed_format': 'teacher', 'source_format': fmt,
                 'source': str(src)},
    }
    try:
        atomic_torch_save(out, dst)
    except OSError as err:
        raise CheckpointError(f'cannot write {dst}: {err}') from None
    return out


def main() -> None:
    """Parse the command line and convert."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='checkpoint to convert')
    parser.add_argument('dst', help='output mmseed teacher checkpoint')
    parser.add_argument('--format', default='auto',
                        choices=('auto', ) + FORMATS,
                        help='source format (default: detect it)')
    args = parser.parse_args()
    out = convert(args.src, args.dst, args.format)
    state = out['state_dict']
    n_backbone = sum(k.startswith('backbone.') for k in state)
    n_neck = sum(k.startswith('neck.') for k in state)
    print(f'detected format: {out["meta"]["source_format"]}')
    print(f'wrote {args.dst}: {n_backbone} backbone and {n_neck} neck tensors')


if __name__ == '__main__':
    run_with_clear_errors(main)
