"""Shared plumbing of ``tools/train.py`` and ``tools/test.py``."""
import argparse
import datetime
import os
import sys
from typing import Callable

import torch
from mmengine.config import Config, DictAction

from mmseed.errors import ConfigError, MMSeedError
from mmseed.utils.config_check import explain_build_error

__all__ = [
    'add_common_args', 'load_config', 'run_with_clear_errors',
    'start_cpu_process_group'
]

DEBUG_ENV = 'MMSEED_DEBUG'


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add the arguments both tools share (mmpretrain's names)."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs such as '
        'model.teacher.checkpoint=PATH train_dataloader.batch_size=64')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (dist_train.sh and slurm_train.sh set it)')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` with its overrides, work dir and launcher.

    The work dir defaults to ``./work_dirs/<config name>``; without CUDA a
    distributed launch runs on CPU with the gloo backend instead of nccl;
    dataloaders without workers get ``persistent_workers=False``.

    Args:
        args (argparse.Namespace): Parsed arguments of a tool.

    Returns:
        Config: The config, ready for ``Runner.from_cfg``.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not os.path.isfile(args.config):
        raise ConfigError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        name = os.path.splitext(os.path.basename(args.config))[0]
        cfg.work_dir = os.path.join('./work_dirs', name)
    if args.launcher != 'none' and not torch.cuda.is_available():
        # CPU-only processes: gloo instead of nccl, and DDP without device ids
        # (mmengine passes device_ids=[LOCAL_RANK], which DDP rejects for CPU
        # modules).
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg.backend = 'gloo'
        cfg.setdefault('model_wrapper_cfg', {})
        cfg.model_wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
        cfg.model_wrapper_cfg.device_ids = None
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader and loader.get('num_workers', 0) == 0:
            # torch rejects persistent workers without workers.
            loader.persistent_workers = False
    return cfg


def start_cpu_process_group(cfg: Config) -> None:
    """Start the process group of a ``--launcher pytorch`` run without CUDA.

    mmengine 0.10.7's ``init_dist`` (``_init_dist_pytorch``) calls
    ``torch.cuda.set_device`` before ``init_process_group`` whatever the
    backend, so a multi-process run on a machine without CUDA dies with
    "Found no NVIDIA driver". Without CUDA the group is started here, from
    ``env_cfg.dist_cfg`` (gloo, see :func:`load_config`), before the runner is
    built; the runner then finds it started and skips its own
    initialisation. With CUDA, or another launcher, nothing happens and
    mmengine initialises as usual.

    Args:
        cfg (Config): The config from :func:`load_config`.
    """
    import torch.distributed as dist
    if (cfg.get('launcher') != 'pytorch' or torch.cuda.is_available()
            or not dist.is_available() or dist.is_initialized()):
        return
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    backend = dist_cfg.pop('backend', 'gloo')
    if dist_cfg.get('timeout') is not None:  # seconds, as mmengine reads it
        dist_cfg['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
    dist.init_process_group(backend=backend, **dist_cfg)


def _own_message(err: Exception) -> str:
    """The error's message. Raised in a dataloader worker, the error
    reaches the main process with the worker's traceback as its message,
    whose last line is ``<ErrorType>: <message>``."""
    message = str(err).strip()
    if 'Traceback (most recent call last)' not in message:
        return message
    last = message.splitlines()[-1]
    return last.split(f'{type(err).__name__}: ', 1)[-1]


def _close_process_group() -> None:
    """Destroy the default process group of a distributed run, if any.

    mmengine leaves it to interpreter exit, where gloo's threads can be torn
    down in the wrong order: a finished rank then dies with ``terminate
    called without an active exception`` (SIGABRT) and torchrun reports the
    whole run as failed.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def run_with_clear_errors(main: Callable[[], None]) -> None:
    """Run a tool's ``main``; report user errors as one line and exit 2.

    Errors that come from bad input (config, data, checkpoints, a corrupt
    image in ``on_corrupt='error'`` mode, a model or pipeline that does not
    fit the data at run time) or a non-finite loss, every
    :class:`~mmseed.errors.MMSeedError`, are printed
    as ``error: ...`` without a traceback. Set ``MMSEED_DEBUG=1`` to see the
    traceback anyway. Any other exception propagates unchanged. A
    distributed run's process group is destroyed on the way out.

    Args:
        main (Callable[[], None]): The tool's entry point.
    """
    error = None
    try:
        main()
    except MMSeedError as err:
        error, message = err, _own_message(err)
    except TypeError as err:
        message = explain_build_error(err)
        if message is None:
            raise
        error = err
    finally:
        _close_process_group()
    if error is None:
        return
    if os.environ.get(DEBUG_ENV):
        raise error
    print(f'error: {message}', file=sys.stderr)
    sys.exit(2)
