#!/usr/bin/env bash
# Weighted kNN accuracy (k = 20 / 200, T = 0.07) of a checkpoint's backbone.
#   bash tools/benchmarks/knn.sh CONFIG CHECKPOINT [GPUS] [tools/test.py options]
# CONFIG: configs/benchmarks/knn/*.py (or any config with a KNNTestLoop).
# CHECKPOINT: an mmseed SEED checkpoint (student = backbone.*), a student
# exported by tools/model_converters/extract_student.py, or an
# mmpretrain/mmselfsup checkpoint. GPUS > 1 runs tools/dist_test.sh. Work dir:
# work_dirs/benchmarks/knn/<config name>/<checkpoint name> (WORK_DIR=... to
# choose); DATA_ROOT=... reads the data from elsewhere. The metrics
# (knn/top1_k20, ...) go to the log and to <work dir>/knn_metrics.json.
# See tools/benchmarks/_common.sh for the details.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

bench_parse knn "$@"
bench_preflight
BENCH_EXTRA+=(--out "$BENCH_WORK_DIR/knn_metrics.json")
bench_run test
bench_report knn/top1_k20
