"""Train a model from a config: ``python tools/train.py CONFIG [options]``."""
import argparse

import torch
from mmengine.runner import Runner

import mmseed  # noqa: F401  (applies the compatibility patches)
from mmseed.engine.hooks import RunInfoHook
from mmseed.utils import register_all_modules
from mmseed.utils.cli import (add_common_args, load_config,
                              run_with_clear_errors, start_cpu_process_group)
from mmseed.utils.config_check import ConfigError, check_config
from mmseed.utils.cpu_memory import KEEP_FREED_MEMORY_ENV, keep_freed_memory
from mmseed.utils.run_info import tool_command


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from PATH, or with no value (or "auto") from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        nargs='?',
        const='fp16',
        choices=['fp16', 'bf16'],
        help="mixed precision training on a CUDA GPU: fp16 with a dynamic "
        "loss scale (the default, as the official SEED code) or bf16; "
        "SEED's loss stays fp32")
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the actual total batch size '
        '(config key auto_scale_lr.base_batch_size)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='set pin_memory=False in every dataloader')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='set persistent_workers=False in every dataloader')
    add_common_args(parser)
    return parser.parse_args(argv)


def merge_args(cfg, args):
    """Apply the command-line switches to the config."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper not in ('OptimWrapper', 'AmpOptimWrapper',
                           'mmseed.AmpOptimWrapper'):
            raise ConfigError(f'--amp does not combine with {wrapper}')
        if not torch.cuda.is_available():
            raise ConfigError(
                f"--amp {args.amp} needs a CUDA GPU (mmengine's "
                "AmpOptimWrapper); on this machine train without --amp")
        # mmseed's: mmengine's builds the deprecated torch.cuda.amp.GradScaler.
        cfg.optim_wrapper.type = 'mmseed.AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        if args.amp == 'bf16':
            cfg.optim_wrapper.dtype = 'bfloat16'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise ConfigError('--auto-scale-lr needs auto_scale_lr = '
                              'dict(base_batch_size=N) in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        if args.no_pin_memory:
            loader.pin_memory = False
        if args.no_persistent_workers:
            loader.persistent_workers = False
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = merge_args(load_config(args), args)
    check_config(cfg, for_training=True)
    start_cpu_process_group(cfg)
    # On CPU, re-faulting large freed blocks costs 5-25% of a CIFAR-10
    # step (docs/benchmarks.md, "Speed targets").
    kept = not torch.cuda.is_available() and keep_freed_memory()
    runner = (Runner.from_cfg(cfg) if 'runner_type' not in cfg else
              mmseed.registry.RUNNERS.build(cfg))
    if kept:
        runner.logger.info(
            'CPU training: malloc keeps freed memory for reuse (the process '
            f'keeps its peak memory); {KEEP_FREED_MEMORY_ENV}=0 turns it off')
    # run_info.json: written once a resume has restored the seed.
    runner.register_hook(RunInfoHook(tool_command(__file__, argv)))
    runner.train()


if __name__ == '__main__':
    run_with_clear_errors(main)
