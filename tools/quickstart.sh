#!/usr/bin/env bash
# Quickstart on real CIFAR-10, CPU, under 15 minutes: set up the environment,
# then tools/benchmarks/cifar10_seed_vs_moco.py --preset quick: prepare a
# 3,000-image class-balanced CIFAR-10 slice, train a MoCo-v2 ResNet-18
# teacher and distil it into a half-width ResNet-18 with SEED (2 epochs
# each), evaluate both with kNN, print the results table and write loss
# curves, all under work_dirs/cifar10_quick. Extra arguments go to the
# pipeline (e.g. --work-root DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
VENV=${MMSEED_VENV:-.venv}
exec "$VENV/bin/python" tools/benchmarks/cifar10_seed_vs_moco.py \
    --preset quick ${CIFAR10_SRC:+--src "$CIFAR10_SRC"} "$@"
