"""What the benchmark scripts share: the machine description, Markdown rows
and the JSON report. Imported by the scripts beside it (``throughput.py``,
``data_throughput.py``), which Python finds because a script's own folder is
first on ``sys.path``."""
import json
import os
import platform
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch

__all__ = ['cpu_model', 'machine_info', 'markdown_table', 'write_json']


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), or what
    :func:`platform.processor` says elsewhere."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def _version(module_name: str) -> Optional[str]:
    try:
        module = __import__(module_name)
    except ImportError:
        return None
    return getattr(module, '__version__', None)


def machine_info() -> Dict[str, object]:
    """Describe the machine and software a measurement ran on.

    Returns:
        Dict[str, object]: CPU model, logical cores, the cores this process
        may use, torch's intra-op threads, the GPU (name, count; None without
        CUDA), and the versions of Python, torch, CUDA, cuDNN, mmengine,
        mmpretrain and mmseed.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    cuda = torch.cuda.is_available()
    return dict(
        cpu=cpu_model(),
        cpu_cores=os.cpu_count(),
        cpu_cores_usable=usable,
        torch_threads=torch.get_num_threads(),
        gpu=torch.cuda.get_device_name(0) if cuda else None,
        gpu_count=torch.cuda.device_count() if cuda else 0,
        platform=platform.platform(),
        python=platform.python_version(),
        torch=torch.__version__,
        cuda=torch.version.cuda if cuda else None,
        cudnn=torch.backends.cudnn.version() if cuda else None,
        mmengine=_version('mmengine'),
        mmpretrain=_version('mmpretrain'),
        mmseed=_version('mmseed'),
    )


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
