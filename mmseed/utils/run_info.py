"""Record what a run was: ``<work_dir>/run_info.json``.

``tools/train.py`` and ``tools/test.py`` append one record per run: the
command line, the config path, the seed and deterministic flag the runner
actually used, package versions, the machine, the git commit of mmseed and
the UTC time. The file is a JSON list; the first record is the original
run, later ones are resumes (or later evaluations) in the same work dir.
Nothing written before is ever overwritten.

The config itself is not repeated here: mmengine already dumps it into the
work dir (``<work_dir>/<config name>.py``, rewritten by every run, and
``<work_dir>/<timestamp>/vis_data/config.py`` per run, where ``timestamp``
is the record's ``timestamp``).
"""
import datetime
import importlib
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import is_main_process

__all__ = [
    'RUN_INFO_FILE', 'append_run_info', 'collect_run_info',
    'cpu_model', 'git_state', 'machine_info', 'package_versions',
    'read_run_info', 'tool_command', 'write_run_info'
]

RUN_INFO_FILE = 'run_info.json'
PACKAGES = ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmpretrain',
            'mmseed', 'numpy')
REPO_ROOT = Path(__file__).resolve().parents[2]


def tool_command(script: str, argv: Optional[Sequence[str]] = None) -> str:
    """The shell-quoted command line ``python SCRIPT ARGS...`` of a tool.

    Args:
        script (str): The tool's ``__file__``; used when ``argv`` is given
            (a call of ``main(argv)`` from Python), as a path relative to
            the current directory.
        argv (Sequence[str], optional): The tool's arguments. Defaults to
            ``sys.argv``, whose first item is the script as invoked.

    Returns:
        str: e.g. ``python tools/train.py CONFIG --work-dir 'a b'``.
    """
    if argv is None:
        words = list(sys.argv)
    else:
        words = [os.path.relpath(script), *map(str, argv)]
    return shlex.join(['python', *words])


def package_versions() -> Dict[str, Optional[str]]:
    """Python's and the stack's versions; ``None`` for a missing package."""
    versions = {'python': platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.import_module(name).__version__
        except (ImportError, AttributeError):
            versions[name] = None
    return versions


def cpu_model(cpuinfo: str = '/proc/cpuinfo') -> str:
    """The CPU's model name (``/proc/cpuinfo``), else the platform's."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() == 'model name':
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """The machine a run used: hostname, platform, CPU model, logical cores
    and those this process may use, torch's intra-op threads, GPU names, and
    the CUDA and cuDNN versions (None without CUDA)."""
    gpus = []
    cuda = torch.cuda.is_available()
    if cuda:
        gpus = [
            torch.cuda.get_device_name(i)
            for i in range(torch.cuda.device_count())
        ]
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return dict(
        hostname=socket.gethostname(),
        platform=platform.platform(),
        cpu=cpu_model(),
        cpu_cores=os.cpu_count(),
        cpu_cores_usable=usable,
        torch_threads=torch.get_num_threads(),
        gpus=gpus,
        cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version() if cuda else None)


def git_state(repo: Path = REPO_ROOT) -> Optional[dict]:
    """The commit checked out in ``repo`` and whether tracked files changed.

    Args:
        repo (Path): The repository's top folder; a folder inside another
            repository (e.g. a ``site-packages`` in a ``.venv``) gives None.

    Returns:
        dict | None: ``{'commit': sha, 'dirty': bool}``, or None when
        ``repo`` is no git checkout or git is not installed.
    """

    def git(*args: str) -> str:
        # --no-optional-locks: `git status` leaves the index file alone.
        return subprocess.run(
            ['git', '--no-optional-locks', '-C',
             str(repo), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True).stdout.strip()

    try:
        if Path(git('rev-parse', '--show-toplevel')) != Path(repo).resolve():
            return None
        return dict(
            commit=git('rev-parse', 'HEAD'),
            dirty=bool(git('status', '--porcelain', '--untracked-files=no')))
    except (OSError, subprocess.SubprocessError):
        return None


def collect_run_info(runner, command: str, mode: str) -> dict:
    """The record of one run.

    Args:
        runner (mmengine.runner.Runner): The built runner. For training,
            call this once a resume has restored the checkpoint's seed
            (see :class:`mmseed.engine.hooks.RunInfoHook`).
        command (str): The command line, see :func:`tool_command`.
        mode (str): ``'train'`` or ``'test'``.

    Returns:
        dict: JSON-serialisable record.
    """
    cfg = runner.cfg
    return dict(
        mode=mode,
        command=command,
        cwd=os.getcwd(),
        config=cfg.filename,
        work_dir=runner.work_dir,
        timestamp=runner.timestamp,
        seed=runner.seed,
        deterministic=runner.deterministic,
        diff_rank_seed=runner._randomness_cfg.get('diff_rank_seed', False),
        resume=bool(cfg.get('resume', False)),
        load_from=cfg.get('load_from'),
        launcher=runner.launcher,
        world_size=runner.world_size,
        packages=package_versions(),
        machine=machine_info(),
        git=git_state(),
        utc_time=datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec='seconds'))


def read_run_info(work_dir: str) -> List[dict]:
    """The records of ``<work_dir>/run_info.json``, oldest first.

    Args:
        work_dir (str): A work dir.

    Returns:
        list[dict]: The records; empty when the file does not exist.

    Raises:
        ValueError: The file exists but is not a JSON list.
    """
    path = Path(work_dir) / RUN_INFO_FILE
    if not path.is_file():
        return []
    try:
        runs = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f'cannot read {path}: {err}') from None
    if not isinstance(runs, list):
        raise ValueError(f'{path} is not a list of run records')
    return runs


def append_run_info(work_dir: str, record: dict) -> Path:
    """Append ``record`` to ``<work_dir>/run_info.json``, atomically.

    An existing file that cannot be read is kept aside as
    ``run_info.unreadable<N>.json`` rather than overwritten.

    Args:
        work_dir (str): The run's work dir (created if needed).
        record (dict): A record from :func:`collect_run_info`.

    Returns:
        Path: The file written.
    """
    path = Path(work_dir) / RUN_INFO_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        runs = read_run_info(work_dir)
    except ValueError:
        n = 1
        while path.with_name(f'run_info.unreadable{n}.json').exists():
            n += 1
        path.rename(path.with_name(f'run_info.unreadable{n}.json'))
        runs = []
    tmp = path.with_name(f'.{RUN_INFO_FILE}.tmp')
    tmp.write_text(json.dumps(runs + [record], indent=2) + '\n')
    os.replace(tmp, path)
    return path


def write_run_info(runner, command: str, mode: str) -> Optional[Path]:
    """Collect this run's record and append it (main process only).

    Args:
        runner (mmengine.runner.Runner): The built runner.
        command (str): The command line, see :func:`tool_command`.
        mode (str): ``'train'`` or ``'test'``.

    Returns:
        Path | None: The file written; None on other ranks.
    """
    if not is_main_process():
        return None
    path = append_run_info(runner.work_dir,
                           collect_run_info(runner, command, mode))
    runner.logger.info(f'run info appended to {path}')
    return path

