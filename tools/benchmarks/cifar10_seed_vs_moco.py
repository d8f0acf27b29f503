"""SEED against MoCo-v2 on real CIFAR-10, from data to results table.

    python tools/benchmarks/cifar10_seed_vs_moco.py --preset quick|cpu|full

Runs, with mmseed's own tools and configs, the experiment of SEED's claim
(Fang et al., ICLR 2021): a MoCo-v2 ResNet-18 teacher (CIFAR stem) trained by
mmseed; for each student architecture, the student trained with MoCo-v2 alone
and the student distilled with SEED from that teacher, at the same epochs,
batch and augmentation; then kNN (and linear-probe) top-1 of every model, a
Markdown table (tools/analysis_tools/collect_results.py) and loss curves
(tools/analysis_tools/plot_curves.py).

Presets (every stage is an ordinary ``tools/train.py`` or
``tools/benchmarks/{knn,linear}.sh`` command, printed before it runs and
recorded in its work dir's ``run_info.json``):

* ``quick``: minutes on a CPU: 300 images per class, the teacher and a
  SEED half-width ResNet-18 for 2 epochs each, kNN only (the quickstart is
  ``cifar10_study.py --preset quick``).
* ``cpu``: the reduced CPU-scale table of docs/results.md: 500 images per
  class, 6 epochs, students ResNet-18 x0.5 and MobileNetV3-L, MoCo-v2
  baselines, kNN and a 5-epoch linear probe.
* ``full``: the configs as written (all of CIFAR-10, 200 epochs, batch 256,
  100-epoch linear probe): a GPU run.

A stage whose final checkpoint or metrics exist is skipped, and training
stages pass ``--resume``, so an interrupted pipeline continues where it
stopped. Work dirs go under ``--work-root`` (default ``work_dirs/cifar10_<preset>``).
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from mmseed.utils.work_dir_logs import eval_metrics  # noqa: E402

TEACHER = dict(
    name='teacher (MoCo-v2)',
    config='configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py',
    knn='configs/benchmarks/knn/knn_r18-cifar_cifar10.py',
    linear='configs/benchmarks/linear_eval/'
    'resnet18-cifar_1xb256-linear-steplr-100e_cifar10.py')
STUDENTS = {
    'r18w05': dict(
        name='ResNet-18 x0.5',
        seed='configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py',
        moco='configs/mocov2/mocov2_r18w05-cifar_1xb256-200e_cifar10.py',
        knn='configs/benchmarks/knn/knn_r18w05-cifar_cifar10.py',
        linear='configs/benchmarks/linear_eval/'
        'resnet18w05-cifar_1xb256-linear-steplr-100e_cifar10.py'),
    'mbv3': dict(
        name='MobileNetV3-L',
        seed='configs/seed/seed_r18-cifar_to_mbv3_cifar10.py',
        moco='configs/mocov2/mocov2_mbv3_1xb256-200e_cifar10.py',
        knn='configs/benchmarks/knn/knn_mbv3_cifar10.py',
        linear='configs/benchmarks/linear_eval/'
        'mobilenet-v3-large_1xb256-linear-bn-lars-coslr-90e_cifar10.py'),
}


class Preset(NamedTuple):
    per_class: Optional[int]  # images per class and split; None: all
    batch: Optional[int]  # None: the configs' own
    teacher_epochs: Optional[int]
    student_epochs: Optional[int]
    students: Tuple[str, ...]
    baselines: bool  # also train each student with MoCo-v2 alone
    linear_epochs: Optional[int]  # 0: no linear probe; None: the configs'
    queue_len: Optional[int]


PRESETS = {
    'quick': Preset(300, 64, 2, 2, ('r18w05', ), False, 0, 1024),
    # 500/class, 6 epochs: what 2 CPU cores train in about an hour. The queue
    # is shortened with the data (4096 would hold most of the 5,000 images).
    'cpu': Preset(500, 128, 6, 6, ('r18w05', 'mbv3'), True, 5, 1024),
    'full': Preset(None, None, None, None, ('r18w05', 'mbv3'), True, None,
                   None),
}


def say(text: str) -> None:
    print(f'[{time.strftime("%H:%M:%S")}] {text}', flush=True)


def scaled_schedule(config: str, epochs: Optional[int]) -> List[str]:
    """``--cfg-options`` that shorten a config's epoch schedule to ``epochs``,
    scaling every by-epoch scheduler's begin/end/T_max/milestones."""
    if epochs is None:
        return []
    cfg = Config.fromfile(REPO / config)
    total = cfg.train_cfg.max_epochs
    options = [f'train_cfg.max_epochs={epochs}']
    if 'val_interval' in cfg.train_cfg:
        options.append(f'train_cfg.val_interval={epochs}')
    schedulers = cfg.param_scheduler
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, sched in enumerate(schedulers):
        if not sched.get('by_epoch', True):
            continue
        scale = lambda v: max(1, round(v * epochs / total))  # noqa: E731
        begin = 0 if not sched.get('begin') else scale(sched.begin)
        end = min(scale(sched.get('end', total)), epochs)
        options += [f'param_scheduler.{i}.begin={begin}',
                    f'param_scheduler.{i}.end={end}']
        if 'T_max' in sched:
            options.append(f'param_scheduler.{i}.T_max={end - begin}')
        if 'milestones' in sched:
            stones = sorted({min(scale(m), epochs) for m in sched.milestones})
            options.append(f'param_scheduler.{i}.milestones={stones}'
                           .replace(' ', ''))
    return options


def final_checkpoint(config: str, work: Path, epochs: Optional[int]) -> Path:
    """The last checkpoint a training of ``config`` into ``work`` for
    ``epochs`` (None: the config's) writes."""
    total = epochs or Config.fromfile(REPO / config).train_cfg.max_epochs
    return work / f'epoch_{total}.pth'


def pretrain_options(config: str, preset: Preset, epochs: Optional[int],
                     data_root: str) -> List[str]:
    """``--cfg-options`` of a pretraining run of ``preset``."""
    options = [f'train_dataloader.dataset.data_root={data_root}',
               'randomness.seed=0']
    if preset.batch:
        base = Config.fromfile(REPO / config)
        lr = base.optim_wrapper.optimizer.lr * preset.batch / 256
        options += [f'train_dataloader.batch_size={preset.batch}',
                    f'optim_wrapper.optimizer.lr={lr:g}']  # linear scaling
    if preset.queue_len:
        options.append(f'model.queue_len={preset.queue_len}')
    if epochs is not None:
        options += scaled_schedule(config, epochs)
        options += [f'train_cfg.val_begin={epochs + 1}',  # kNN: by knn.sh
                    f'default_hooks.checkpoint.interval={max(1, epochs // 3)}',
                    'default_hooks.logger.interval=10']
    return options


def merged(options: Sequence[str]) -> List[str]:
    """``--cfg-options`` with one value per key: a later ``key=value``
    replaces an earlier one of the same key, in the earlier one's place."""
    by_key: Dict[str, str] = {}
    for option in options:
        by_key[option.split('=', 1)[0]] = option
    return list(by_key.values())


class Pipeline:
    """Runs the stages of one preset, skipping those already done."""

    def __init__(self, preset: Preset, work_root: Path, data_root: Path,
                 dry_run: bool) -> None:
        self.preset, self.root, self.data = preset, work_root, data_root
        self.dry_run = dry_run
        self.env = dict(os.environ, PYTHON=sys.executable,
                        PYTHONWARNINGS='ignore')

    def run(self, title: str, command: List[str], log: Path,
            env: Optional[Dict[str, str]] = None) -> None:
        """Run ``command``, showing its progress lines, full output in ``log``."""
        say(f'{title}\n    $ {" ".join(command)}')
        if self.dry_run:
            return
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, 'w') as out:
            proc = subprocess.Popen(command, cwd=REPO, env=env or self.env,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                out.write(line)
                if ('Epoch(' in line or 'error:' in line
                        or 'Traceback' in line):
                    print('    ' + line.split(' - ')[-1].rstrip(), flush=True)
        if proc.wait() != 0:
            raise SystemExit(f'error: {title} failed (exit {proc.returncode});'
                             f' see {log}')

    def pretrain(self, title: str, config: str, work: Path,
                 epochs: Optional[int], extra: Sequence[str] = ()) -> Path:
        """Train ``config`` into ``work`` for ``epochs`` (None: the
        config's); returns the final checkpoint."""
        final = final_checkpoint(config, work, epochs)
        if final.is_file():
            say(f'{title}: done before ({final})')
            return final
        options = merged(pretrain_options(config, self.preset, epochs,
                                          str(self.data)) + list(extra))
        self.run(title, [sys.executable, 'tools/train.py', config,
                         '--work-dir', str(work), '--resume',
                         '--cfg-options', *options], work.with_suffix('.log'))
        return final

    def evaluate(self, kind: str, name: str, config: str,
                 checkpoint: Path, epochs: Optional[int] = None) -> Path:
        """kNN, linear probe or fine-tune (``kind``: knn, linear, semi; the
        tools/benchmarks script) of ``checkpoint``'s backbone, trained for
        ``epochs`` (None: the preset's probe epochs, or the config's); its
        work dir."""
        work = self.root / kind / name
        if not self.dry_run and eval_metrics_or_none(work, kind):
            say(f'{kind} of {name}: done before ({work})')
            return work
        command = ['bash', f'tools/benchmarks/{kind}.sh', config,
                   str(checkpoint)]
        if epochs is None and kind == 'linear':
            epochs = self.preset.linear_epochs
        if kind != 'knn' and epochs is not None:
            command += ['--cfg-options', *scaled_schedule(config, epochs)]
        env = dict(self.env, WORK_DIR=str(work), DATA_ROOT=str(self.data))
        self.run(f'{kind} evaluation of {name}', command,
                 work.with_suffix('.log'), env)
        return work


def eval_metrics_or_none(work: Path, kind: str) -> Optional[dict]:
    key = 'knn/top1_k20' if kind == 'knn' else 'accuracy/top1'
    try:
        metrics = eval_metrics(str(work))
    except Exception:  # no logs yet
        return None
    return metrics if key in metrics else None


def prepare_data(per_class: Optional[int], src: Optional[str]) -> Path:
    """data/cifar10[-N], prepared by tools/dataset_converters/prepare_cifar10.py."""
    out = REPO / 'data' / ('cifar10' if per_class is None
                           else f'cifar10-{per_class}')
    command = [sys.executable, 'tools/dataset_converters/prepare_cifar10.py',
               '--out', str(out)]
    if per_class is not None:
        command += ['--per-class', str(per_class)]
    if src:
        command += ['--src', src]
    say('CIFAR-10: ' + ' '.join(command[1:]))
    subprocess.run(command, cwd=REPO, check=True)
    return out


def write_table(root: Path, rows: Sequence[str]) -> str:
    """The Markdown table of ``rows`` (``collect_results.py --row``), also
    written to ``root/results.md``."""
    collect = [sys.executable, 'tools/analysis_tools/collect_results.py']
    for row in rows:
        collect += ['--row', row]
    table = subprocess.run(collect, cwd=REPO, check=True, text=True,
                           capture_output=True).stdout
    (root / 'results.md').write_text(table)
    return table


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='SEED vs MoCo-v2 on real CIFAR-10: train, evaluate, '
        'tabulate, plot.')
    parser.add_argument('--preset', choices=sorted(PRESETS), default='quick')
    parser.add_argument('--work-root', type=Path,
                        help='default: work_dirs/cifar10_<preset>')
    parser.add_argument('--students', nargs='+', choices=sorted(STUDENTS),
                        help="default: the preset's")
    parser.add_argument('--src', help='CIFAR-10 archive for '
                        'prepare_cifar10.py (default: its own)')
    parser.add_argument('--table', type=Path,
                        help='also write the Markdown table here')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands without running them')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    preset = PRESETS[args.preset]
    if args.students:
        preset = preset._replace(students=tuple(args.students))
    root = (args.work_root or REPO / 'work_dirs' / f'cifar10_{args.preset}')
    data = prepare_data(preset.per_class, args.src)
    pipe = Pipeline(preset, root.resolve(), data, args.dry_run)

    # name -> (pretraining work dir, its final checkpoint, eval configs)
    models: Dict[str, tuple] = {}
    teacher_dir = pipe.root / 'teacher_r18-cifar'
    teacher = pipe.pretrain('teacher: MoCo-v2 ResNet-18 (CIFAR stem)',
                            TEACHER['config'], teacher_dir,
                            preset.teacher_epochs)
    models[TEACHER['name']] = (teacher_dir, teacher, TEACHER)
    for key in preset.students:
        student = STUDENTS[key]
        methods = (['moco'] if preset.baselines else []) + ['seed']
        for method in methods:
            work = pipe.root / f'{method}_{key}'
            extra = ([f'model.teacher.checkpoint={teacher}']
                     if method == 'seed' else [])
            label = 'SEED' if method == 'seed' else 'MoCo-v2'
            ckpt = pipe.pretrain(f'{student["name"]} student: {label}',
                                 student[method], work,
                                 preset.student_epochs, extra)
            models[f'{student["name"]}, {label}'] = (work, ckpt, student)

    rows = []
    for name, (work, ckpt, configs) in models.items():
        evals = [pipe.evaluate('knn', work.name, configs['knn'], ckpt)]
        if preset.linear_epochs != 0:
            evals.append(pipe.evaluate('linear', work.name, configs['linear'],
                                       ckpt))
        rows.append(f'{name}|{work}|{",".join(map(str, evals))}')
    if args.dry_run:
        return

    table = write_table(pipe.root, rows)
    if args.table:
        args.table.write_text(table)
    plots = pipe.root / 'plots'
    subprocess.run([sys.executable, 'tools/analysis_tools/plot_curves.py',
                    *(str(m[0]) for m in models.values()), '--keys', 'loss',
                    '--labels', *models, '--out-dir', str(plots)],
                   cwd=REPO, check=True, capture_output=True)
    say(f'results ({pipe.root / "results.md"}):\n\n{table}')
    say(f'loss curves: {plots / "loss.png"}')


if __name__ == '__main__':
    main()
