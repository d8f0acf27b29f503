"""What the benchmark scripts share: the machine description, Markdown rows,
the JSON report and config reading. Imported by the scripts beside it
(``throughput.py``, ``data_throughput.py``) and the reference steps, which
Python finds because a script's own folder is first on ``sys.path``."""
import json
from pathlib import Path
from typing import Any, Dict, List, Sequence

from mmseed.utils.run_info import machine_info as run_machine_info
from mmseed.utils.run_info import package_versions

__all__ = [
    'machine_info', 'markdown_table', 'random_teacher', 'type_name',
    'write_json'
]


def machine_info() -> Dict[str, object]:
    """Describe the machine and software a measurement ran on.

    Returns:
        Dict[str, object]: :func:`mmseed.utils.run_info.machine_info` (CPU
        model, logical and usable cores, torch's intra-op threads, GPUs,
        CUDA, cuDNN) with the first GPU as ``gpu`` (None without CUDA) and
        their number as ``gpu_count``, and
        :func:`mmseed.utils.run_info.package_versions` (Python, torch,
        mmengine, mmpretrain, mmseed, ...).
    """
    info = run_machine_info()
    gpus = info['gpus']
    return dict(info, gpu=gpus[0] if gpus else None, gpu_count=len(gpus),
                **package_versions())


def random_teacher(model: Any) -> None:
    """Give ``model.teacher`` random weights instead of its checkpoint, for
    the reference steps' ``prepare`` of a distillation method.

    The teacher's modules get their own initialisation (e.g. Kaiming for a
    ResNet); the teacher is then marked initialised, the flag mmengine's
    ``init_weights`` checks, so the runner does not ask for the checkpoint.
    """
    for child in model.teacher.children():
        if hasattr(child, 'init_weights'):
            child.init_weights()
    model.teacher._is_init = True


def type_name(module_cfg: Any) -> str:
    """The bare ``type`` of a config node (``'mmpretrain.MoCo'``: ``MoCo``;
    a class: its name; no type: '')."""
    kind = module_cfg.get('type', '') if isinstance(module_cfg, dict) else ''
    return kind.rsplit('.', 1)[-1] if isinstance(kind, str) else \
        getattr(kind, '__name__', '')


def markdown_table(header: Sequence[str], rows: List[Sequence]) -> str:
    """A Markdown table: the header, its separator and one line per row.

    Floats are printed with 3 significant digits (1 decimal at 100 and more),
    None as an empty cell.

    Args:
        header (Sequence[str]): Column names.
        rows (List[Sequence]): Cell values, one sequence per row.

    Returns:
        str: The table, lines joined by newlines.
    """
    def cell(value) -> str:
        if value is None:
            return ''
        if isinstance(value, float):
            return f'{value:.1f}' if abs(value) >= 100 else f'{value:.3g}'
        return str(value)

    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(cell(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)


def write_json(report: dict, path: str) -> Path:
    """Write ``report`` as indented JSON to ``path``, creating its folder.

    Returns:
        Path: The file written.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + '\n')
    return out
