"""Read the scalars and metrics that mmengine logs into a work dir.

Each run of ``tools/train.py`` or ``tools/test.py`` writes into a
``<work_dir>/<timestamp>/`` folder (``YYYYMMDD_HHMMSS``):

* ``vis_data/scalars.json``: one JSON object per line. Training lines hold
  ``loss``, ``lr``, ``iter``, ``epoch`` (epoch-based loops) and ``step`` (the
  global iteration); validation lines hold the metrics (``accuracy/top1``,
  ``knn/top1_k20``, ...) and ``step`` (the epoch).
* ``<timestamp>.json``: the metrics of ``runner.test()``, one JSON object
  (mmengine's ``LoggerHook.after_test_epoch``).

A resumed run adds a timestamp folder; its records replace those of earlier
folders from its first step on, which the resumed run logged again.
"""
import json
import re
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Sequence, Tuple

from mmseed.errors import LogError

__all__ = [
    'Curves', 'LogError', 'available_keys', 'concat_resumed', 'eval_metrics',
    'parse_scalars', 'read_curves', 'series', 'split_train_val',
    'timestamp_dirs'
]

TIMESTAMP = re.compile(r'\d{8}_\d{6}')
# Bookkeeping entries of mmengine's log lines, not curves.
NOT_CURVES = frozenset(('step', 'iter', 'epoch', 'data_time', 'time',
                        'memory'))


class Curves(NamedTuple):
    """The logged scalars of one work dir.

    Attributes:
        train (list[dict]): Training records, by global iteration (``step``).
        val (list[dict]): Validation records, by epoch (``step``).
    """
    train: List[dict]
    val: List[dict]


def timestamp_dirs(work_dir: str) -> List[Path]:
    """The ``<timestamp>`` folders of a work dir, oldest first."""
    root = Path(work_dir)
    if not root.is_dir():
        raise LogError(f'work dir not found: {work_dir}')
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and TIMESTAMP.fullmatch(p.name))


def parse_scalars(lines: Iterable[str], source: str = 'scalars') -> List[dict]:
    """Parse the lines of a ``scalars.json``.

    A run killed while writing may leave a truncated last line; it is
    dropped. Any other line that is not a JSON object with a ``step`` is an
    error.

    Args:
        lines (Iterable[str]): The file's lines.
        source (str): Name for error messages.

    Returns:
        list[dict]: The records, in file order.
    """
    lines = [line for line in lines if line.strip()]
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise LogError(f'{source}, line {number}: not JSON: '
                           f'{line.strip()[:80]}') from None
        if not isinstance(record, dict) or 'step' not in record:
            raise LogError(f'{source}, line {number}: not an mmengine '
                           f'scalar record (no "step"): {line.strip()[:80]}')
        records.append(record)
    return records


def split_train_val(records: Iterable[dict]) -> Curves:
    """Split records into training (they have ``iter``) and validation."""
    records = list(records)
    return Curves([r for r in records if 'iter' in r],
                  [r for r in records if 'iter' not in r])


def concat_resumed(runs: Sequence[List[dict]]) -> List[dict]:
    """Concatenate the records of successive runs in one work dir.

    A later run (a resume) logs again from the step it restarted at, so the
    earlier runs' records from that step on are dropped.

    Args:
        runs (Sequence[list[dict]]): Records of each run, oldest first.

    Returns:
        list[dict]: One record per logged step, ordered by step.
    """
    merged: List[dict] = []
    for records in runs:
        if records:
            first = records[0]['step']
            merged = [r for r in merged if r['step'] < first]
            merged.extend(records)
    return merged


def read_curves(work_dir: str) -> Curves:
    """The training and validation records of a work dir, resumes merged.

    Args:
        work_dir (str): A work dir of ``tools/train.py``.

    Returns:
        Curves: Its records.

    Raises:
        LogError: No ``<timestamp>/vis_data/scalars.json`` in ``work_dir``.
    """
    runs = []
    for folder in timestamp_dirs(work_dir):
        path = folder / 'vis_data' / 'scalars.json'
        if path.is_file():
            with open(path) as f:
                runs.append(split_train_val(parse_scalars(f, str(path))))
    if not runs:
        raise LogError(f'no logs in {work_dir}: expected '
                       '<timestamp>/vis_data/scalars.json, as tools/train.py '
                       'writes them with LocalVisBackend')
    return Curves(concat_resumed([run.train for run in runs]),
                  concat_resumed([run.val for run in runs]))


def available_keys(records: Iterable[dict]) -> List[str]:
    """The curve keys (losses, lr, metrics) present in records, sorted."""
    return sorted({k for r in records for k in r} - NOT_CURVES)


def series(records: Iterable[dict], key: str) -> Tuple[List, List]:
    """``(steps, values)`` of the records that hold ``key``."""
    pairs = [(r['step'], r[key]) for r in records if key in r]
    return [s for s, _ in pairs], [v for _, v in pairs]


def eval_metrics(work_dir: str) -> Dict[str, float]:
    """The latest evaluation metrics of a work dir.

    Per run folder, oldest first: the last validation record of
    ``vis_data/scalars.json`` (e.g. a linear evaluation trained with
    ``tools/train.py``), then ``<timestamp>.json`` (``tools/test.py``,
    e.g. kNN). Later values of a key replace earlier ones.

    Args:
        work_dir (str): A work dir of ``tools/train.py`` or ``tools/test.py``.

    Returns:
        dict[str, float]: Metric name to value.

    Raises:
        LogError: No metric in ``work_dir``.
    """
    metrics: Dict[str, float] = {}
    for folder in timestamp_dirs(work_dir):
        scalars = folder / 'vis_data' / 'scalars.json'
        if scalars.is_file():
            with open(scalars) as f:
                val = split_train_val(parse_scalars(f, str(scalars))).val
            if val:
                last = val[-1]
                metrics.update({k: last[k] for k in available_keys([last])})
        test = folder / f'{folder.name}.json'
        if test.is_file():
            try:
                record = json.loads(test.read_text())
            except json.JSONDecodeError as err:
                raise LogError(f'{test}: not JSON: {err}') from None
            metrics.update({
                k: v
                for k, v in record.items()
                if k not in NOT_CURVES and isinstance(v, (int, float))
            })
    if not metrics:
        raise LogError(f'no evaluation metrics in {work_dir}: expected '
                       '<timestamp>/<timestamp>.json (tools/test.py) or '
                       'validation lines in <timestamp>/vis_data/'
                       'scalars.json (tools/train.py)')
    return metrics
