"""Export a distilled student's backbone for mmpretrain.

    python tools/model_converters/extract_student.py SEED_CHECKPOINT OUT.pth

Writes ``{'state_dict': {'backbone.*': ...}, 'meta': ...}``, which an
mmpretrain ``ImageClassifier`` with the same backbone loads as it is
(``load_from=OUT.pth`` or ``init_cfg=dict(type='Pretrained',
checkpoint=OUT.pth)``); its neck and head keep their own initialisation.
"""
import argparse
import sys
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmseed.utils.checkpoint import (CheckpointError,  # noqa: E402
                                     atomic_torch_save, load_checkpoint_file)


def extract_student(checkpoint: dict) -> OrderedDict:
    """Return the student backbone's ``backbone.*`` tensors of a checkpoint.

    Args:
        checkpoint (dict): A loaded mmseed training checkpoint.

    Returns:
        OrderedDict: The ``backbone.*`` entries, keys unchanged.

    Raises:
        CheckpointError: No student backbone in the checkpoint.
    """
    state = checkpoint.get('state_dict', checkpoint)
    student = OrderedDict(
        (k, v) for k, v in state.items() if k.startswith('backbone.'))
    if not student:
        raise CheckpointError(
            'no backbone.* weights in the checkpoint (first keys: '
            f'{", ".join(list(state)[:5])}); pass an mmseed training '
            'checkpoint such as work_dirs/<run>/epoch_200.pth')
    return student


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='mmseed checkpoint (e.g. of SEED)')
    parser.add_argument('dst', help='output file')
    args = parser.parse_args(argv)
    try:
        student = extract_student(load_checkpoint_file(args.src))
    except CheckpointError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
    atomic_torch_save(
        {'state_dict': student,
         'meta': {'mmseed_format': 'student', 'source': args.src}}, args.dst)
    print(f'wrote {len(student)} student backbone tensors to {args.dst}')


if __name__ == '__main__':
    main()
