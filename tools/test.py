"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``."""
import argparse

from mmengine.runner import Runner

import mmseed  # noqa: F401  (applies the compatibility patches)
from mmseed.utils import register_all_modules
from mmseed.utils.cli import (add_common_args, load_config,
                              run_with_clear_errors, start_cpu_process_group)
from mmseed.utils.config_check import check_config
from mmseed.utils.run_info import tool_command, write_run_info


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the metrics to this file (json/yaml/pickle)')
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    check_config(cfg, for_training=False)
    start_cpu_process_group(cfg)
    runner = (Runner.from_cfg(cfg) if 'runner_type' not in cfg else
              mmseed.registry.RUNNERS.build(cfg))
    write_run_info(runner, tool_command(__file__, argv), 'test')
    metrics = runner.test()
    if args.out:
        from mmengine.fileio import dump
        dump(metrics, args.out)


if __name__ == '__main__':
    run_with_clear_errors(main)
