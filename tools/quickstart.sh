#!/usr/bin/env bash
# Quickstart on real CIFAR-10, CPU, a few minutes: set up the environment,
# then train the CIFAR-10 MoCo-v2 teacher config for 2 epochs on a
# 3,000-image class-balanced slice, writing checkpoints and logs to
# work_dirs/quickstart. Extra arguments go to tools/train.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
VENV=${MMSEED_VENV:-.venv}
PY="$VENV/bin/python"

"$PY" tools/dataset_converters/prepare_cifar10.py --per-class 300 \
    --out data/cifar10-300 ${CIFAR10_SRC:+--src "$CIFAR10_SRC"}
"$PY" tools/train.py configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py \
    --work-dir work_dirs/quickstart \
    --cfg-options train_dataloader.dataset.data_root=data/cifar10-300 \
    train_dataloader.batch_size=64 train_cfg.max_epochs=2 \
    param_scheduler.0.T_max=2 param_scheduler.0.end=2 \
    default_hooks.checkpoint.interval=1 default_hooks.logger.interval=10 \
    "$@"
echo "[quickstart] checkpoints and logs in work_dirs/quickstart"
