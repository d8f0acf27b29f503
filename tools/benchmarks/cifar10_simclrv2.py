"""SimCLRv2's three steps on real CIFAR-10, with the accuracy after each.

    python tools/benchmarks/cifar10_simclrv2.py --preset cpu|full

1. Pretrain a ResNet-18 (CIFAR stem) with SimCLRv2 (3-layer head, LARS).
2. Fine-tune it from the head's first layer on 10% and on 1% of the
   training labels (class-balanced subsets of the data used, seed 0).
3. Distil the 10% fine-tune into a half-width ResNet-18 on all training
   images without labels.

The baseline is the same half-width ResNet-18 trained on the 10% labels
alone, from scratch. Each step's test accuracy is printed as it finishes,
and the table goes to ``<work root>/results.md``. The presets:

* ``cpu``: 500 images per class (``data/cifar10-500``), batch 128, 6 epochs
  of pretraining and of distillation, 10 epochs of each fine-tune and of the
  baseline; every network at half the configs' width (the pretrained
  network a ResNet-18 x0.5, the student x0.25), which 2 CPU cores train in
  about half an hour instead of two hours.
* ``full``: the configs' schedules on all of CIFAR-10.

The learning rates follow each config's rule for the batch: linear for the
pretraining and distillation (their ``auto_scale_lr``), the square root for
the fine-tunes. A
finished stage is skipped on a rerun. ``--dry-run`` prints the commands.
"""
import argparse
import math
import sys
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'benchmarks'))

from cifar10_seed_vs_moco import (Pipeline, eval_metrics_or_none,  # noqa
                                  final_checkpoint, prepare_data, say,
                                  scaled_schedule)
from mmengine.config import Config  # noqa: E402

CONFIGS = REPO / 'configs'
PRETRAIN = 'configs/simclrv2/simclrv2_r18-cifar_1xb512-1000e_cifar10.py'
FINETUNE = {
    10: 'configs/simclrv2/simclrv2-ft_r18-cifar_1xb256-lars-30e_cifar10-'
    '10pct.py',
    1: 'configs/simclrv2/simclrv2-ft_r18-cifar_1xb256-lars-60e_cifar10-'
    '1pct.py',
}
DISTILL = ('configs/simclrv2/'
           'simclrv2-distill_r18-cifar_to_r18w05-cifar_1xb512-400e_cifar10.py')
BASELINE = ('configs/benchmarks/semi_supervised/'
            'resnet18w05-cifar_1xb256-ft-coslr-30e_cifar10-10pct.py')
SUBSET = 'meta/train_{pct}pct_seed0.txt'


class Preset(NamedTuple):
    per_class: Optional[int]  # images per class; None: all of CIFAR-10
    batch: Optional[int]  # None: the configs' own
    pretrain_epochs: Optional[int]  # None: the configs' own
    finetune_epochs: Optional[int]
    distill_epochs: Optional[int]
    # stem and base channels of the pretrained network and of the student
    # (ResNet_CIFAR: pooled width 8x); None: the configs' (64 and 32).
    channels: Optional[int] = None
    student_channels: Optional[int] = None


PRESETS = {
    'cpu': Preset(500, 128, 6, 10, 6, channels=32, student_channels=16),
    'full': Preset(None, None, None, None, None),
}


class Step(NamedTuple):
    name: str
    config: str
    work: Path
    epochs: Optional[int]
    options: List[str]


def batch_options(config: str, batch: Optional[int], rule: str) -> List[str]:
    """The batch size and the lr it implies, by the config's rule."""
    if not batch:
        return []
    cfg = Config.fromfile(REPO / config)
    options = [f'train_dataloader.batch_size={batch}']
    scaling = cfg.get('auto_scale_lr') or {}
    if rule == 'linear' and scaling.get('enable'):
        return options  # the config scales its lr to the batch itself
    base = cfg.train_dataloader.batch_size
    lr = cfg.optim_wrapper.optimizer.lr
    lr *= batch / base if rule == 'linear' else math.sqrt(batch / base)
    return options + [f'optim_wrapper.optimizer.lr={lr:g}']


def width_options(prefix: str, channels: Optional[int],
                  keys=('neck', 'head')) -> List[str]:
    """A narrower ResNet_CIFAR under ``prefix`` and the widths of the
    modules after it (``keys``: ``neck`` and/or ``head`` in_channels)."""
    if channels is None:
        return []
    return [f'{prefix}backbone.stem_channels={channels}',
            f'{prefix}backbone.base_channels={channels}'] + [
        f'{prefix}{key}.in_channels={8 * channels}' for key in keys]


def width_name(channels: Optional[int], default: int) -> str:
    factor = (channels or default) / 64
    return 'ResNet-18' if factor == 1 else f'ResNet-18 x{factor:g}'


def data_options(config: str, data: Path) -> List[str]:
    cfg = Config.fromfile(REPO / config)
    loaders = [n for n in ('train_dataloader', 'val_dataloader',
                           'test_dataloader') if cfg.get(n)]
    return [f'{n}.dataset.data_root={data}' for n in loaders]


def run_step(pipe: Pipeline, step: Step) -> Path:
    """Train ``step`` (skipped if its last checkpoint exists); returns the
    last checkpoint."""
    final = final_checkpoint(step.config, step.work, step.epochs)
    if final.is_file():
        say(f'{step.name}: done before ({final})')
        return final
    options = data_options(step.config, pipe.data) + ['randomness.seed=0']
    options += step.options
    if step.epochs is not None:
        options += scaled_schedule(step.config, step.epochs)
        # A checkpoint every third of the run: an interrupted run resumes.
        interval = max(1, step.epochs // 3)
        options += [f'default_hooks.checkpoint.interval={interval}',
                    'default_hooks.logger.interval=10']
    pipe.run(step.name, [sys.executable, 'tools/train.py', step.config,
                         '--work-dir', str(step.work), '--resume',
                         '--cfg-options', *options],
             step.work.with_suffix('.log'))
    return final


def accuracy(pipe: Pipeline, work: Path) -> str:
    """The last validation top-1 of a run, as text."""
    if pipe.dry_run:
        return '-'
    metrics = eval_metrics_or_none(work, 'linear') or {}
    value = metrics.get('accuracy/top1')
    return '-' if value is None else f'{value:.2f}'


def draw_subsets(pipe: Pipeline) -> None:
    for pct in FINETUNE:
        out = pipe.data / SUBSET.format(pct=pct)
        if out.is_file():
            continue
        pipe.run(f'{pct}% label subset', [
            sys.executable, 'tools/dataset_converters/make_label_subset.py',
            'sample', str(pipe.data / 'train'), '--fraction', str(pct / 100),
            '--seed', '0'], out.with_suffix('.log'))


def start(name: str, doc: str, presets: dict, argv=None,
          parents: Sequence[argparse.ArgumentParser] = ()
          ) -> Tuple[NamedTuple, Path, Pipeline, argparse.Namespace]:
    """The arguments the CIFAR-10 pipeline scripts share (``--preset``,
    ``--work-root``, ``--data-root``, ``--src``, ``--dry-run``), plus a
    script's own from ``parents`` (``add_help=False`` parsers): the chosen
    preset, the work root (default ``work_dirs/cifar10_<name>_<preset>``),
    the :class:`Pipeline` on the prepared data and all parsed arguments."""
    parser = argparse.ArgumentParser(description=doc.split('\n')[0],
                                     parents=list(parents))
    parser.add_argument('--preset', choices=sorted(presets), default='cpu')
    parser.add_argument('--work-root', type=Path)
    parser.add_argument('--data-root', type=Path,
                        help='prepared CIFAR-10 (folder layout) to use '
                        'instead of the preset\'s')
    parser.add_argument('--src', help='CIFAR-10 archive')
    parser.add_argument('--dry-run', action='store_true')
    args = parser.parse_args(argv)
    preset = presets[args.preset]
    root = (args.work_root
            or REPO / 'work_dirs' / f'cifar10_{name}_{args.preset}')
    data = args.data_root or prepare_data(preset.per_class, args.src)
    return preset, root, Pipeline(preset, root.resolve(),
                                  Path(data).resolve(), args.dry_run), args


def main(argv=None) -> None:
    preset, root, pipe, _ = start('simclrv2', __doc__, PRESETS, argv)
    draw_subsets(pipe)
    rows = []

    def report(step: str, model: str, labels: str, work: Path) -> None:
        rows.append((step, model, labels, accuracy(pipe, work), str(work)))
        say(f'{step}: {model}, {labels} -> top-1 {rows[-1][3]}')

    big = width_name(preset.channels, 64)
    small = width_name(preset.student_channels, 32)
    pretrained = run_step(pipe, Step(
        f'1. SimCLRv2 pretraining, {big}', PRETRAIN, root / 'pretrain',
        preset.pretrain_epochs,
        batch_options(PRETRAIN, preset.batch, 'linear') +
        width_options('model.', preset.channels, ('neck', ))))
    teachers = {}
    for pct, config in FINETUNE.items():
        work = root / f'finetune_{pct}pct'
        teachers[pct] = run_step(pipe, Step(
            f'2. fine-tune on {pct}% of the labels', config, work,
            preset.finetune_epochs,
            [f'model.init_cfg.checkpoint={pretrained}'] +
            batch_options(config, preset.batch, 'sqrt') +
            width_options('model.', preset.channels)))
        report('2. fine-tuned from head layer 1', big, f'{pct}%', work)
    work = root / 'distill_10pct'
    run_step(pipe, Step(
        f'3. distil into {small}', DISTILL, work,
        preset.distill_epochs,
        [f'model.teacher.checkpoint={teachers[10]}'] +
        batch_options(DISTILL, preset.batch, 'linear') +
        width_options('model.teacher.', preset.channels) +
        width_options('model.', preset.student_channels, ('head', ))))
    report('3. distilled (unlabelled images)', small, '10% (teacher)', work)
    work = root / 'baseline_10pct'
    run_step(pipe, Step(
        f'baseline: {small} on the 10% labels alone', BASELINE, work,
        preset.finetune_epochs,
        ['model.backbone.init_cfg=None'] +
        batch_options(BASELINE, preset.batch, 'linear') +
        width_options('model.', preset.student_channels, ('head', ))))
    report('baseline: supervised from scratch', small, '10%', work)
    table = ['| step | model | labels | test top-1 (%) | work dir |',
             '| --- | --- | --- | --- | --- |']
    table += ['| ' + ' | '.join(row) + ' |' for row in rows]
    if not pipe.dry_run:
        root.mkdir(parents=True, exist_ok=True)
        (root / 'results.md').write_text('\n'.join(table) + '\n')
    say('results:\n\n' + '\n'.join(table))


if __name__ == '__main__':
    main()
