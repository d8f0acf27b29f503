"""Collect the evaluation results of several runs into a Markdown table.

    python tools/analysis_tools/collect_results.py \
        --row "teacher|work_dirs/moco|work_dirs/moco_knn,work_dirs/moco_lin" \
        --row "SEED student|work_dirs/seed|work_dirs/seed_knn" \
        [--out docs/results.md]

Each ``--row "NAME|PRETRAIN_DIR|EVAL_DIR[,EVAL_DIR...]"`` gives one table
row. The pretraining work dir gives the architecture, method and epochs
(from the config mmengine dumped there) and the config path, machine and
command (from its ``run_info.json``: the first run, and how often it was
resumed). The evaluation work dirs
give the metrics: kNN top-1 (``knn/top1_k20``, ``knn/top1_k200``, e.g. from
``tools/test.py``) and linear top-1 (``accuracy/top1``, the last validation
of a linear evaluation trained with ``tools/train.py``). Missing values
are shown as ``—``.
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

from mmengine.config import Config

# Runs from a checkout without installing mmseed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmseed.utils.run_info import read_run_info  # noqa: E402
from mmseed.utils.work_dir_logs import (LogError, eval_metrics,  # noqa: E402
                                        read_curves)

__all__ = [
    'COLUMNS', 'METRICS', 'Row', 'collect_row', 'describe_backbone',
    'describe_machine', 'describe_method', 'format_table', 'main', 'parse_row'
]

MISSING = '—'
# Column title -> metric key of the evaluation logs.
METRICS = {
    'kNN top-1 (k=20)': 'knn/top1_k20',
    'kNN top-1 (k=200)': 'knn/top1_k200',
    'linear top-1': 'accuracy/top1',
}
COLUMNS = ('model', 'architecture', 'pretraining', 'epochs', *METRICS,
           'config', 'machine', 'command')


class Row(NamedTuple):
    """One table row: a name, its pretraining and evaluation work dirs."""
    name: str
    pretrain_dir: str
    eval_dirs: List[str]


def parse_row(spec: str) -> Row:
    """Parse ``"NAME|PRETRAIN_DIR|EVAL_DIR[,EVAL_DIR...]"``.

    The evaluation part may be empty (``"NAME|PRETRAIN_DIR|"`` or
    ``"NAME|PRETRAIN_DIR"``).
    """
    parts = spec.split('|')
    if len(parts) not in (2, 3) or not parts[0].strip() or not parts[1]:
        raise LogError(f'--row {spec!r}: expected '
                       '"NAME|PRETRAIN_DIR|EVAL_DIR[,EVAL_DIR...]"')
    evals = parts[2].split(',') if len(parts) == 3 else []
    return Row(parts[0].strip(), parts[1], [d for d in evals if d])


def describe_backbone(backbone: Optional[dict]) -> str:
    """e.g. ``ResNet_CIFAR-18 (base width 32)``, ``MobileNetV3-large``,
    ``SwinTransformer (embed_dims 48, depths 2-2-2, num_heads 3-6-12)``."""
    if not backbone:
        return MISSING
    name = backbone['type'].split('.')[-1]  # no registry scope
    variant = backbone.get('depth', backbone.get('arch'))
    if isinstance(variant, dict):  # a custom arch, e.g. a reduced Swin
        name += ' (' + ', '.join(
            f'{k} {"-".join(map(str, v)) if isinstance(v, list) else v}'
            for k, v in variant.items()) + ')'
    elif variant is not None:
        name += f'-{variant}'
    width = backbone.get('base_channels')
    if width is not None and width != 64:  # 64: the ResNets' standard width
        name += f' (base width {width})'
    return name


def describe_method(model: dict) -> str:
    """The model type, with its teacher for distillation, e.g.
    ``SEED from ResNet-50``."""
    method = model.get('type', MISSING)
    teacher = model.get('teacher') or {}
    if teacher.get('backbone'):
        method += f' from {describe_backbone(teacher["backbone"])}'
    return method


def describe_machine(record: dict) -> str:
    """e.g. ``8x NVIDIA H100 80GB HBM3`` or ``CPU: <model> (2 cores)``."""
    machine = record.get('machine', {})
    processes = record.get('world_size', 1)
    if machine.get('gpus'):
        return f'{processes}x {machine["gpus"][0]}'
    text = f'CPU: {machine.get("cpu", "?")} ({machine.get("cpu_cores")} cores)'
    return text if processes == 1 else f'{text}, {processes} processes'


def _epochs(cfg: Config, pretrain_dir: str) -> str:
    train_cfg = cfg.get('train_cfg') or {}
    if 'max_epochs' not in train_cfg:
        iters = train_cfg.get('max_iters')
        return MISSING if iters is None else f'{iters} iters'
    planned = train_cfg['max_epochs']
    try:
        logged = [r['epoch'] for r in read_curves(pretrain_dir).train
                  if 'epoch' in r]
    except LogError:
        logged = []
    if logged and logged[-1] < planned:  # the run stopped early
        return f'{logged[-1]} of {planned}'
    return str(planned)


def collect_row(row: Row) -> Dict[str, str]:
    """The table cells of one row.

    Args:
        row (Row): The row's name and work dirs.

    Returns:
        dict[str, str]: Column title to cell text.

    Raises:
        LogError: A work dir is missing or has no metrics, no config can be
            found, or two evaluation work dirs give the same metric.
    """
    if not Path(row.pretrain_dir).is_dir():
        raise LogError(f'work dir not found: {row.pretrain_dir}')
    try:
        runs = [r for r in read_run_info(row.pretrain_dir)
                if r.get('mode') == 'train']
    except ValueError as err:
        raise LogError(str(err)) from None
    first = runs[0] if runs else {}
    # mmengine dumps the config as <work_dir>/<config file name>.
    dumps = ([Path(row.pretrain_dir) / Path(first['config']).name]
             if first.get('config') else
             sorted(Path(row.pretrain_dir).glob('*.py')))
    if len(dumps) != 1 or not dumps[0].is_file():
        raise LogError(f'no config dumped in {row.pretrain_dir}: expected '
                       'the one .py file that tools/train.py writes there')
    cfg = Config.fromfile(dumps[0])
    model = cfg.get('model', {})

    metrics: Dict[str, float] = {}
    source: Dict[str, str] = {}
    for eval_dir in row.eval_dirs:
        for key, value in eval_metrics(eval_dir).items():
            if key in source and key in METRICS.values():
                raise LogError(f'{key} is in both {source[key]} and '
                               f'{eval_dir}; give one of them for row '
                               f'{row.name!r}')
            metrics[key], source[key] = value, eval_dir

    cells = {
        'model': row.name,
        'architecture': describe_backbone(model.get('backbone')),
        'pretraining': describe_method(model),
        'epochs': _epochs(cfg, row.pretrain_dir),
        'config': f'`{first.get("config", dumps[0])}`',
        'machine': describe_machine(first) if first else MISSING,
        'command': f'`{first["command"]}`' if first else MISSING,
    }
    if len(runs) > 1:
        cells['command'] += f' (+{len(runs) - 1} resumed)'
    for column, key in METRICS.items():
        cells[column] = f'{metrics[key]:.2f}' if key in metrics else MISSING
    return cells


def format_table(rows: Sequence[Dict[str, str]]) -> str:
    """A Markdown table of ``rows`` (dicts keyed by :data:`COLUMNS`)."""

    def line(cells):
        return '| ' + ' | '.join(c.replace('|', r'\|') for c in cells) + ' |'

    return '\n'.join([
        line(COLUMNS), '| ' + ' | '.join('---' for _ in COLUMNS) + ' |',
        *(line(row[c] for c in COLUMNS) for row in rows)
    ]) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--row', action='append', required=True,
        help='"NAME|PRETRAIN_DIR|EVAL_DIR[,EVAL_DIR...]", once per row')
    parser.add_argument('--out', help='write the table here (default: print)')
    args = parser.parse_args(argv)
    try:
        table = format_table([collect_row(parse_row(s)) for s in args.row])
    except LogError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(table)
        print(f'wrote {args.out}')
    else:
        print(table, end='')


if __name__ == '__main__':
    main()
