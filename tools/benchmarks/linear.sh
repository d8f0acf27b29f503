#!/usr/bin/env bash
# Linear evaluation: a linear classifier trained on the frozen features of a
# checkpoint's backbone, then tested (accuracy/top1 on the test split).
#   bash tools/benchmarks/linear.sh CONFIG CHECKPOINT [GPUS] [tools/train.py options]
# CONFIG: configs/benchmarks/linear_eval/*.py. CHECKPOINT: an mmseed SEED
# checkpoint (student = backbone.*), a student exported by
# tools/model_converters/extract_student.py, or an mmpretrain/mmselfsup
# checkpoint. GPUS > 1 runs tools/dist_train.sh. Work dir:
# work_dirs/benchmarks/linear/<config name>/<checkpoint name> (WORK_DIR=... to
# choose); DATA_ROOT=... reads the data from elsewhere. E.g.
#   bash tools/benchmarks/linear.sh \
#       configs/benchmarks/linear_eval/resnet18w05-cifar_1xb256-linear-steplr-100e_cifar10.py \
#       work_dirs/seed_r18-cifar_to_r18w05-cifar_cifar10/epoch_200.pth
# See tools/benchmarks/_common.sh for the details.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

bench_parse linear "$@"
bench_preflight
bench_run train
bench_report accuracy/top1
