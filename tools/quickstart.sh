#!/usr/bin/env bash
# Quickstart on real CIFAR-10, CPU, under 15 minutes: set up the environment,
# then tools/benchmarks/cifar10_study.py --preset quick: prepare a
# 3,000-image class-balanced CIFAR-10 slice, train a MoCo-v2 ResNet-18
# teacher, then a MobileNetV3-L student both by SEED from the teacher and by
# MoCo-v2 alone (2 epochs each, the same budget), evaluate all three with
# kNN, print the table and "SEED student vs MoCo-v2 student: kNN top-1 X vs
# Y", and write loss curves, all under work_dirs/cifar10_study_quick. Extra
# arguments go to the study (e.g. --work-root DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
VENV=${MMSEED_VENV:-.venv}
exec "$VENV/bin/python" tools/benchmarks/cifar10_study.py \
    --preset quick ${CIFAR10_SRC:+--src "$CIFAR10_SRC"} "$@"
