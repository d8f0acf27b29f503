"""CRD on real CIFAR-10: supervised against its cross-entropy and KD twins,
label-free against SEED from the same self-supervised teacher.

    python tools/benchmarks/cifar10_crd.py --preset cpu|full

Supervised:

1. Train the supervised teacher (configs/crd/resnet18-cifar_*).
2. Train the student three ways at the same budget: on the labels alone
   (cross-entropy), with KD from the teacher, with CRD (CE + 0.8 CRD).

Label-free:

3. Train a MoCo-v2 teacher (configs/mocov2/mocov2_r18-cifar_*).
4. Distil it into the student by SEED and by label-free CRD at the same
   budget (configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py and
   configs/crd/crd_r18-cifar-mocov2_*), kNN (k = 20 / 200) on the test split.

Each result is printed and the tables go to ``<work root>/results.md``.

The presets:

* ``cpu``: 500 images per class (``data/cifar10-500``), RepDistiller's batch
  64 and lr 0.05, 8 epochs for every model (lr steps scaled from
  150/180/210 of 240), K = 4096 negatives (of 4,500 images of other
  classes; the reference dataset's own default), every network at half the
  configs' width (teachers ResNet-18 x0.5, students x0.25); the label-free
  models 6 epochs at batch 128, SEED's queue 1024 (SEED's CPU scale in
  docs/results.md): what
  2 CPU cores train in about an hour.
* ``full``: the configs as written (all of CIFAR-10; 240 epochs supervised,
  the label-free models 200 as SEED's CIFAR-10 config).

A finished stage is skipped on a rerun. ``--dry-run`` prints the commands.
"""
import sys
from pathlib import Path
from typing import NamedTuple, Optional

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'benchmarks'))

from cifar10_seed_vs_moco import Pipeline, eval_metrics_or_none, say  # noqa
from cifar10_simclrv2 import (Step, accuracy, run_step, start,  # noqa: E402
                              width_name, width_options)

TEACHER = 'configs/crd/resnet18-cifar_1xb64-240e_cifar10.py'
STUDENTS = {
    'cross-entropy': 'configs/crd/resnet18w05-cifar_1xb64-240e_cifar10.py',
    'KD': 'configs/crd/kd_r18-cifar_to_r18w05-cifar_1xb64-240e_cifar10.py',
    'CRD': 'configs/crd/crd_r18-cifar_to_r18w05-cifar_1xb64-240e_cifar10.py',
}
MOCO = 'configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py'
LABEL_FREE = {
    'SEED': 'configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py',
    'CRD (label-free)':
    'configs/crd/crd_r18-cifar-mocov2_to_r18w05-cifar_cifar10.py',
}


class Preset(NamedTuple):
    per_class: Optional[int]  # images per class; None: all of CIFAR-10
    epochs: Optional[int]  # None: the configs' own
    num_negatives: Optional[int]  # None: the configs' 16384
    ssl_epochs: Optional[int]  # label-free models; None: the configs'
    ssl_batch: Optional[int]  # None: the configs' 256
    seed_queue: Optional[int]  # SEED's queue; None: the config's 4096
    channels: Optional[int] = None  # teacher stem/base; None: 64
    student_channels: Optional[int] = None  # None: 32


PRESETS = {
    'cpu': Preset(500, 8, 4096, 6, 128, 1024, channels=32, student_channels=16),
    'full': Preset(None, None, None, None, None, None),
}


def main(argv=None) -> None:
    preset, root, pipe, _ = start('crd', __doc__, PRESETS, argv)
    big = width_name(preset.channels, 64)
    small = width_name(preset.student_channels, 32)
    rows = []
    teacher = run_step(pipe, Step(
        f'teacher: {big} on the labels', TEACHER, root / 'teacher',
        preset.epochs, width_options('model.', preset.channels, ('head', ))))
    rows.append(('teacher', big, accuracy(pipe, root / 'teacher'),
                 str(root / 'teacher')))
    distill = [f'model.teacher.checkpoint={teacher}'] + width_options(
        'model.teacher.', preset.channels, ('head', ))
    for name, config in STUDENTS.items():
        work = root / name.lower().replace('-', '_')
        options = width_options('model.', preset.student_channels,
                                ('head', ))
        if name != 'cross-entropy':
            options += distill
        if name == 'CRD':
            for key, channels in (('teacher', preset.channels),
                                  ('student', preset.student_channels)):
                if channels:
                    options.append(
                        f'model.{key}_embed.in_channels={8 * channels}')
            if preset.num_negatives:
                options.append(f'model.num_negatives={preset.num_negatives}')
        run_step(pipe, Step(f'student by {name}: {small}', config, work,
                            preset.epochs, options))
        rows.append((name, small, accuracy(pipe, work), str(work)))
        say(f'{name}: {small} -> top-1 {rows[-1][2]}')
    tables = [table_of(['training', 'model', 'test top-1 (%)', 'work dir'],
                       rows)]
    tables.append(table_of(
        ['training', 'model', 'kNN top-1 k=20 (%)', 'kNN top-1 k=200 (%)',
         'work dir'], label_free(pipe, preset, root, big, small)))
    text = '\n\n'.join(tables) + '\n'
    if not pipe.dry_run:
        root.mkdir(parents=True, exist_ok=True)
        (root / 'results.md').write_text(text)
    say('results:\n\n' + text)


def table_of(header, rows) -> str:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + ' --- |' * len(header)]
    return '\n'.join(lines + ['| ' + ' | '.join(r) + ' |' for r in rows])


def knn(pipe: Pipeline, work: Path) -> tuple:
    """kNN top-1 (k = 20, 200) of a run's own last validation."""
    metrics = (None if pipe.dry_run else eval_metrics_or_none(work, 'knn'))
    metrics = metrics or {}
    return tuple('-' if metrics.get(f'knn/top1_k{k}') is None else
                 f"{metrics[f'knn/top1_k{k}']:.2f}" for k in (20, 200))


def label_free(pipe: Pipeline, preset: Preset, root: Path, big: str,
               small: str) -> list:
    """The MoCo-v2 teacher, then SEED and label-free CRD students of it;
    each evaluated by kNN at its last epoch (the configs' kNN loop)."""
    common = []
    if preset.ssl_batch:
        # SGD lr 0.03 per 256 images (the configs' rule, MoCo / SEED).
        common = [f'train_dataloader.batch_size={preset.ssl_batch}',
                  f'optim_wrapper.optimizer.lr={0.03 * preset.ssl_batch / 256:g}']
    if preset.ssl_epochs:
        common.append('train_cfg.val_begin=1')
    teacher = run_step(pipe, Step(
        f'MoCo-v2 teacher: {big}', MOCO, root / 'mocov2', preset.ssl_epochs,
        common + width_options('model.', preset.channels, ('neck', )) +
        ([f'model.neck.hid_channels={8 * preset.channels}']
         if preset.channels else [])))
    rows = [('MoCo-v2 (teacher)', big, *knn(pipe, root / 'mocov2'),
             str(root / 'mocov2'))]
    teacher_width = width_options('model.teacher.', preset.channels, ())
    for name, config in LABEL_FREE.items():
        work = root / ('seed' if name == 'SEED' else 'crd_label_free')
        options = common + [f'model.teacher.checkpoint={teacher}']
        options += teacher_width
        channels, student = preset.channels, preset.student_channels
        if channels:  # the MoCo-v2 teacher's head, as trained
            options.append(f'model.teacher.neck.in_channels={8 * channels}')
            options.append(f'model.teacher.neck.hid_channels={8 * channels}')
        if name == 'SEED':
            options += width_options('model.', student, ('neck', ))
            if student:
                options.append(f'model.neck.hid_channels={8 * student}')
            if preset.seed_queue:
                options.append(f'model.queue_len={preset.seed_queue}')
        else:
            options += width_options('model.', student, ('student_embed', ))
            if channels:
                options.append(f'model.teacher_embed.in_channels={8 * channels}')
            if preset.num_negatives:
                options.append(f'model.num_negatives={preset.num_negatives}')
        run_step(pipe, Step(f'{name} student: {small}', config, work,
                            preset.ssl_epochs, options))
        rows.append((name, small, *knn(pipe, work), str(work)))
        say(f'{name}: {small} -> kNN top-1 {rows[-1][2]} (k=20)')
    return rows


if __name__ == '__main__':
    main()
