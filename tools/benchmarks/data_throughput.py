"""Images/s of a config's self-supervised augmentation pipeline, per CPU core.

``python tools/benchmarks/data_throughput.py [--config CONFIG]
[--data-root DIR] [--workers N [N ...]] [--seconds S] [--out report.json]``

Real images go through the config's train dataset and pipeline (reading,
decoding, the multi-view augmentation, packing) and the dataloader mmengine
builds from the config (``Runner.build_dataloader``: sampler, collate), with
no model. ``--workers 0`` measures one core: the main process does all the
work, with one torch and one OpenCV thread. With ``N`` workers, ``N``
processes share the work: the report gives the total and the rate per worker.
Timing starts once the first batch has arrived, so worker start-up is left
out.

Prints a Markdown table (one row per worker count) and writes a JSON report
with the machine (CPU, cores, versions), settings and results.
"""
import argparse
import copy
import os
import sys
import time
from pathlib import Path
from typing import Dict, Optional

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.utils.dl_utils import set_multi_processing

import mmseed  # noqa: F401  (applies the compatibility patches)
from mmseed.utils import register_all_modules
from mmseed.utils.cli import run_with_clear_errors
from mmseed.utils.config_check import ConfigError, check_config

from bench_utils import machine_info, markdown_table, write_json

__all__ = ['loader_config', 'measure', 'main']

DEFAULT_CONFIG = 'configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Images/s of a config\'s SSL augmentation pipeline')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help=f'config whose train dataset and pipeline are '
                        f'measured (default: {DEFAULT_CONFIG})')
    parser.add_argument('--data-root',
                        help='image folder root (default: the config\'s '
                        'train_dataloader.dataset.data_root)')
    parser.add_argument('--workers', type=int, nargs='+', default=[0],
                        help='dataloader worker counts to measure, e.g. '
                        '0 1 2 (default: 0, one core)')
    parser.add_argument('--seconds', type=float, default=20.0,
                        help='timed seconds per worker count')
    parser.add_argument('--batch-size', type=int,
                        help='images per batch (default: the config\'s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the sampler and augmentations')
    parser.add_argument('--out', help='JSON report path (default: '
                        'work_dirs/benchmarks/data_<config>.json)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def loader_config(cfg: Config, data_root: Optional[str],
                  batch_size: Optional[int]) -> ConfigDict:
    """The config's train dataloader, sampling without end.

    Args:
        cfg (Config): The loaded config.
        data_root (str, optional): Replaces the (innermost) dataset's
            ``data_root``.
        batch_size (int, optional): Replaces the batch size.

    Returns:
        ConfigDict: A dataloader config for ``Runner.build_dataloader``.
    """
    loader = copy.deepcopy(cfg.get('train_dataloader'))
    if not loader or not loader.get('dataset'):
        raise ConfigError('the config has no train_dataloader.dataset to '
                          'measure')
    dataset = loader.dataset
    while 'dataset' in dataset:  # wrappers such as RepeatDataset
        dataset = dataset.dataset
    if data_root is not None:
        dataset.data_root = data_root
    if batch_size is not None:
        if batch_size < 1:
            raise ConfigError(f'--batch-size must be positive, got '
                              f'{batch_size}')
        loader.batch_size = batch_size
    # Without end, so the workers are not restarted at an epoch's end.
    loader.sampler = dict(type='InfiniteSampler', shuffle=True)
    return loader


def measure(loader_cfg: ConfigDict, workers: int, seconds: float,
            seed: int, scope: str = 'mmseed') -> Dict[str, float]:
    """Run the dataloader for ``seconds`` and count the images.

    Args:
        loader_cfg (ConfigDict): From :func:`loader_config`.
        workers (int): Dataloader worker processes (0: the main process).
        seconds (float): How long to time.
        seed (int): Seed of the sampler and the workers.
        scope (str): Registry scope the dataset's types are looked up in
            (the config's ``default_scope``). Defaults to ``'mmseed'``.

    Returns:
        Dict[str, float]: workers, processes doing the work, images and
        views loaded, seconds, images/s in total and per process.
    """
    cfg = copy.deepcopy(loader_cfg)
    cfg.num_workers = workers
    cfg.persistent_workers = False
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope(scope):
        loader = Runner.build_dataloader(cfg, seed=seed)
    batches = iter(loader)
    next(batches)  # worker start-up and the first batch are not timed
    images = views = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        inputs = next(batches)['inputs']
        if isinstance(inputs, torch.Tensor):
            inputs = [inputs]
        images += len(inputs[0])
        views += sum(len(view) for view in inputs)
    elapsed = time.perf_counter() - start
    del batches, loader
    processes = max(1, workers)
    return dict(
        workers=workers,
        processes=processes,
        images=images,
        views=views,
        seconds=elapsed,
        images_per_s=images / elapsed,
        images_per_s_per_process=images / elapsed / processes,
        views_per_s=views / elapsed)


def main(argv=None) -> None:
    args = parse_args(argv)
    if any(n < 0 for n in args.workers) or args.seconds <= 0:
        raise ConfigError('--workers must be at least 0 and --seconds '
                          'positive')
    register_all_modules(init_default_scope=False)
    if not os.path.isfile(args.config):
        raise ConfigError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader_cfg = loader_config(cfg, args.data_root, args.batch_size)
    check_config(
        Config(dict(default_scope=cfg.get('default_scope', 'mmseed'),
                    train_dataloader=loader_cfg)),
        for_training=True)
    mp_cfg = cfg.get('env_cfg', {}).get('mp_cfg', {})
    set_multi_processing(**mp_cfg, distributed=False)
    torch.set_num_threads(1)  # the main process: one core
    results = []
    for workers in args.workers:
        print(f'timing {workers} worker(s) for {args.seconds:g} s ...',
              file=sys.stderr, flush=True)
        results.append(measure(loader_cfg, workers, args.seconds, args.seed,
                               cfg.get('default_scope', 'mmseed')))

    dataset = loader_cfg.dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    report = dict(
        machine=machine_info(),
        settings=dict(
            config=args.config, data_root=dataset.get('data_root'),
            batch_size=loader_cfg.batch_size, seconds=args.seconds,
            seed=args.seed,
            notes=['workers 0: the main process alone (one core); N '
                   'workers: N processes, rate also given per process',
                   'timing starts after the first batch']),
        results=results)
    header = ['config', 'data', 'workers', 'images/s', 'images/s per worker',
              'views/s', 'CPU']
    rows = [[Path(args.config).stem, dataset.get('data_root'), r['workers'],
             r['images_per_s'], r['images_per_s_per_process'],
             r['views_per_s'], report['machine']['cpu']] for r in results]
    print(markdown_table(header, rows))
    out = args.out or \
        f'work_dirs/benchmarks/data_{Path(args.config).stem}.json'
    print(f'report written to {write_json(report, out)}')


if __name__ == '__main__':
    run_with_clear_errors(main)
