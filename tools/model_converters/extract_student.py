"""Export a distilled student's backbone for mmpretrain.

    python tools/model_converters/extract_student.py SEED_CHECKPOINT OUT.pth
    python tools/model_converters/extract_student.py DOGO_CHECKPOINT OUT.pth --module peer2

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


def extract_student(checkpoint: dict, module: str = '') -> OrderedDict:
    """Return a backbone's tensors of a checkpoint as ``backbone.*``.

    Args:
        checkpoint (dict): A loaded mmseed training checkpoint.
        module (str): The sub-module that holds the backbone, e.g.
            ``'peer2'`` of a DoGo checkpoint (``peer2.backbone.*``);
            ``''`` for the model's own ``backbone.*`` (SEED, MoCo).

    Returns:
        OrderedDict: The backbone's entries, keyed ``backbone.*``.

    Raises:
        CheckpointError: No such backbone in the checkpoint.
    """
    state = checkpoint.get('state_dict', checkpoint)
    prefix = f'{module}.backbone.' if module else 'backbone.'
    student = OrderedDict(('backbone.' + k[len(prefix):], v)
                          for k, v in state.items() if k.startswith(prefix))
    if not student:
        holders = sorted({key.split('.backbone.')[0] for key in state
                          if '.backbone.' in key})
        hint = (f'; its backbones are under --module '
                f'{" / ".join(holders)}' if holders else '')
        raise CheckpointError(
            f'no {prefix}* weights in the checkpoint (first keys: '
            f'{", ".join(list(state)[:5])}){hint}; pass an mmseed training '
            'checkpoint such as work_dirs/<run>/epoch_200.pth')
    return student


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='mmseed checkpoint (e.g. of SEED)')
    parser.add_argument('dst', help='output file')
    parser.add_argument(
        '--module', default='',
        help='the sub-module whose backbone to export, e.g. peer1 or peer2 '
        'of a DoGo checkpoint (default: the model\'s own backbone)')
    args = parser.parse_args(argv)
    try:
        student = extract_student(load_checkpoint_file(args.src),
                                  args.module)
    except CheckpointError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
    atomic_torch_save(
        {'state_dict': student,
         'meta': {'mmseed_format': 'student', 'source': args.src,
                  'module': args.module or None}}, args.dst)
    print(f'wrote {len(student)} student backbone tensors to {args.dst}')


if __name__ == '__main__':
    main()
