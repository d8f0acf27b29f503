#!/usr/bin/env bash
# Quickstart on real CIFAR-10, CPU, under 15 minutes: set up the environment,
# then tools/benchmarks/cifar10_study.py --preset quick: prepare a 3,000-image
# class-balanced CIFAR-10 slice, train a MoCo-v2 ResNet-18 teacher, then a
# MobileNetV3-L student by SEED from it and its twin by MoCo-v2 alone (same
# budget: 2 epochs, batch 64, lr 0.06), evaluate all three with kNN, print
# the table, the line "SEED student vs MoCo-v2 student: kNN top-1 X vs Y" and
# where the loss curves are, all under work_dirs/cifar10_study_quick. Extra
# arguments go to the study (e.g. --work-root DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
VENV=${MMSEED_VENV:-.venv}
exec "$VENV/bin/python" tools/benchmarks/cifar10_study.py \
    --preset quick ${CIFAR10_SRC:+--src "$CIFAR10_SRC"} "$@"
