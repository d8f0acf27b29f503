#!/usr/bin/env bash
# Semi-supervised evaluation: the whole network, initialised from a
# checkpoint's backbone, fine-tuned on a label subset (1% or 10%), then tested
# (accuracy/top1 on the test split).
#   bash tools/benchmarks/semi.sh CONFIG CHECKPOINT [GPUS] [tools/train.py options]
# CONFIG: configs/benchmarks/semi_supervised/*.py; their subset files are
# data/<dataset>/meta/*.txt (tools/dataset_converters/make_label_subset.py). A
# missing CIFAR-10 subset (train_10pct_seed0.txt) is drawn before training;
# ImageNet's come from SimCLR's lists (make_label_subset.py from-list).
# GPUS > 1 runs tools/dist_train.sh. Work dir:
# work_dirs/benchmarks/semi/<config name>/<checkpoint name> (WORK_DIR=... to
# choose); DATA_ROOT=... reads the data from elsewhere. E.g.
#   bash tools/benchmarks/semi.sh \
#       configs/benchmarks/semi_supervised/resnet18w05-cifar_1xb256-ft-coslr-30e_cifar10-10pct.py \
#       work_dirs/seed_r18-cifar_to_r18w05-cifar_cifar10/epoch_200.pth
# See tools/benchmarks/_common.sh for the details.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

bench_parse semi "$@"
bench_preflight
bench_run train
bench_report accuracy/top1
