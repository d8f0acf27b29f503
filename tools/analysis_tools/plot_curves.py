"""Plot training and evaluation curves of one or more work dirs as PNG.

    python tools/analysis_tools/plot_curves.py WORK_DIR [WORK_DIR ...] \
        [--keys loss knn/top1_k20] [--labels teacher student] [--out-dir DIR]

Writes one ``<key>.png`` per key (``/`` becomes ``_``) with one line per
work dir: training scalars (``loss``, ``loss_*``, ``lr``) against the
iteration, validation metrics (``knn/top1_k20``, ``accuracy/top1``, ...)
against the epoch. A resumed run's logs are joined without repeated steps.
Default keys: ``loss`` and every validation metric found.
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Runs from a checkout without installing mmseed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmseed.utils.work_dir_logs import (Curves, LogError,  # noqa: E402
                                        available_keys, read_curves, series)

__all__ = ['all_keys', 'default_keys', 'plot_curves', 'main']


def all_keys(runs: Dict[str, Curves]) -> List[str]:
    """Every curve key of ``runs``, sorted."""
    return available_keys(r for c in runs.values() for r in c.train + c.val)


def default_keys(runs: Dict[str, Curves]) -> List[str]:
    """``loss`` (if logged) and every validation metric of ``runs``."""
    train = {k for c in runs.values() for k in available_keys(c.train)}
    val = {k for c in runs.values() for k in available_keys(c.val)}
    return (['loss'] if 'loss' in train else []) + sorted(val)


def plot_curves(runs: Dict[str, Curves], keys: Sequence[str],
                out_dir: str) -> List[Path]:
    """Write ``<out_dir>/<key>.png`` for each key.

    Args:
        runs (dict[str, Curves]): Label to the curves of its work dir.
        keys (Sequence[str]): Training keys (against the iteration) or
            validation keys (against the epoch); a run without the key is
            left out of its plot.
        out_dir (str): Output folder (created if needed).

    Returns:
        list[Path]: The files written.

    Raises:
        LogError: A key is in no run; the message lists those that are.
    """
    present = all_keys(runs)
    for key in keys:
        if key not in present:
            raise LogError(f'key {key!r} is not in the logs; they have: '
                           f'{", ".join(present)}')
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key in keys:
        fig = Figure(figsize=(6, 4), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for label, curves in runs.items():
            for records, xlabel, style in ((curves.train, 'iteration', '-'),
                                           (curves.val, 'epoch', 'o-')):
                steps, values = series(records, key)
                if steps:
                    ax.plot(steps, values, style, label=label, markersize=3)
                    ax.set_xlabel(xlabel)
                    break
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(key)
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = out / (key.replace('/', '_') + '.png')
        fig.savefig(path)
        written.append(path)
    return written


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', help='work dirs to plot')
    parser.add_argument(
        '--keys', nargs='+', help='keys to plot (default: loss and every '
        'validation metric)')
    parser.add_argument(
        '--labels', nargs='+', help='one label per work dir (default: the '
        'work dir names)')
    parser.add_argument(
        '--out-dir', default='plots', help='output folder (default: plots)')
    args = parser.parse_args(argv)
    labels = args.labels or [Path(d).name for d in args.work_dirs]
    try:
        if len(labels) != len(args.work_dirs):
            raise LogError(f'{len(labels)} --labels for '
                           f'{len(args.work_dirs)} work dirs; give one each')
        if len(set(labels)) != len(labels):
            raise LogError(f'labels must differ, got {labels}; use --labels')
        runs = {l: read_curves(d) for l, d in zip(labels, args.work_dirs)}
        keys = args.keys or default_keys(runs)
        if not keys:
            raise LogError('no loss and no validation metric in the logs; '
                           f'choose --keys among: {", ".join(all_keys(runs))}')
        paths = plot_curves(runs, keys, args.out_dir)
    except LogError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
    for path in paths:
        print(f'wrote {path}')


if __name__ == '__main__':
    main()
