"""DoGo against SimCLR alone on real CIFAR-10, from data to results table.

    python tools/benchmarks/cifar10_dogo_vs_simclr.py --preset cpu|full

Trains DoGo (Bhat et al., 2021) with a ResNet-18 peer 1 and a half-width
ResNet-18 peer 2, and the same half-width ResNet-18 with SimCLR alone at the
same budget (network, head, views, NT-Xent temperature, Adam, epochs, batch);
exports DoGo's peers (``tools/model_converters/extract_student.py
--module``); evaluates peer 2, peer 1 and the SimCLR network with kNN and a
linear probe; writes the Markdown table (collect_results.py) and the loss
curves. The stages and presets are those of ``cifar10_seed_vs_moco.py``
(``cpu``: 500 images per class, batch 128, 6 epochs, 5-epoch probe), whose
pipeline this reuses; a finished stage is skipped on a rerun.
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'benchmarks'))

from cifar10_seed_vs_moco import (PRESETS, STUDENTS, Pipeline,  # noqa: E402
                                  final_checkpoint, prepare_data, say,
                                  scaled_schedule, write_table)

DOGO = 'configs/dogo/dogo_r18-cifar_r18w05-cifar_1xb256-200e_cifar10.py'
SIMCLR = 'configs/simclr/simclr_r18w05-cifar_1xb256-200e_cifar10.py'
R18 = dict(knn='configs/benchmarks/knn/knn_r18-cifar_cifar10.py',
           linear='configs/benchmarks/linear_eval/'
           'resnet18-cifar_1xb256-linear-steplr-100e_cifar10.py')


def train(pipe: Pipeline, title: str, config: str, work: Path,
          epochs: Optional[int]) -> Path:
    """Train ``config`` at the preset's data, batch and epochs. DoGo's Adam
    lr does not scale with the batch (official), so neither run's does."""
    final = final_checkpoint(config, work, epochs)
    if final.is_file():
        say(f'{title}: done before ({final})')
        return final
    options: List[str] = [f'train_dataloader.dataset.data_root={pipe.data}',
                          'randomness.seed=0']
    if pipe.preset.batch:
        options.append(f'train_dataloader.batch_size={pipe.preset.batch}')
    if epochs is not None:
        options += scaled_schedule(config, epochs)
        options += [f'train_cfg.val_begin={epochs + 1}',
                    f'default_hooks.checkpoint.interval={max(1, epochs // 3)}',
                    'default_hooks.logger.interval=10']
    pipe.run(title, [sys.executable, 'tools/train.py', config, '--work-dir',
                     str(work), '--resume', '--cfg-options', *options],
             work.with_suffix('.log'))
    return final


def exported(checkpoint: Path, module: str) -> Path:
    """Where :func:`export` writes ``module``'s backbone of ``checkpoint``."""
    return checkpoint.with_name(f'{module}_{checkpoint.name}')


def export(pipe: Pipeline, checkpoint: Path, module: str) -> Path:
    out = exported(checkpoint, module)
    if not out.is_file():
        pipe.run(f'export {module} of {checkpoint.name}', [
            sys.executable, 'tools/model_converters/extract_student.py',
            str(checkpoint), str(out), '--module', module],
            out.with_suffix('.log'))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--preset', choices=('cpu', 'full'), default='cpu')
    parser.add_argument('--work-root', type=Path)
    parser.add_argument('--src', help='CIFAR-10 archive')
    parser.add_argument('--dry-run', action='store_true')
    args = parser.parse_args(argv)
    preset = PRESETS[args.preset]
    root = args.work_root or REPO / 'work_dirs' / f'cifar10_dogo_{args.preset}'
    data = prepare_data(preset.per_class, args.src)
    pipe = Pipeline(preset, root.resolve(), data, args.dry_run)
    epochs = preset.student_epochs

    dogo_dir = pipe.root / 'dogo_r18_r18w05'
    simclr_dir = pipe.root / 'simclr_r18w05'
    dogo = train(pipe, 'DoGo: ResNet-18 <-> ResNet-18 x0.5', DOGO, dogo_dir,
                 epochs)
    simclr = train(pipe, 'SimCLR alone: ResNet-18 x0.5', SIMCLR, simclr_dir,
                   epochs)
    small = STUDENTS['r18w05']
    # (row name, evaluation name, pretraining work dir, checkpoint, configs)
    models = [
        ('ResNet-18 x0.5, DoGo peer 2', 'dogo_peer2_r18w05', dogo_dir,
         export(pipe, dogo, 'peer2'), small),
        ('ResNet-18 x0.5, SimCLR alone', 'simclr_r18w05', simclr_dir, simclr,
         small),
        ('ResNet-18, DoGo peer 1', 'dogo_peer1_r18', dogo_dir,
         export(pipe, dogo, 'peer1'), R18),
    ]
    rows = []
    for name, tag, work, ckpt, configs in models:
        evals = [pipe.evaluate('knn', tag, configs['knn'], ckpt)]
        if preset.linear_epochs != 0:
            evals.append(pipe.evaluate('linear', tag, configs['linear'],
                                       ckpt))
        rows.append(f'{name}|{work}|{",".join(map(str, evals))}')
    if args.dry_run:
        return
    table = write_table(pipe.root, rows)
    say(f'results ({pipe.root / "results.md"}):\n\n{table}')


if __name__ == '__main__':
    main()
