#!/usr/bin/env bash
# The GPU run: one command, sized for one H100/H200 in under 8 minutes.
#
#   bash tools/benchmarks/gpu_run.sh --prepare   # here, once: .gpu_run/
#   bash tools/benchmarks/gpu_run.sh OUT_DIR     # on the GPU machine
#   bash tools/benchmarks/gpu_run.sh OUT_DIR --dry-run   # print the commands
#
# --prepare downloads the pure-Python OpenMMLab wheels the GPU machine lacks
# (Python 3.12; it has its own CUDA torch, torchvision, opencv, matplotlib)
# and copies the CIFAR-10 archive into the git-ignored .gpu_run/ (~41 MB),
# which the device tool carries (`carry: [".gpu_run"]`).
#
# On the GPU machine it makes a virtual environment over the system's
# packages (.gpu_run/venv, the wheels installed without their
# dependencies, no internet), prepares all 50,000 CIFAR-10 training images,
# then
#  1. times every method's CIFAR-10 step and one 224-px SEED config against
#     its plain reference step (tools/benchmarks/throughput.py: bf16,
#     channels-last, SEED and MoCo-v2 with and without the device-side
#     augmentation): images/s, step split, peak GPU memory;
#  2. trains on all 50,000 images with the device-side augmentation a MoCo-v2
#     teacher, a SEED student and its MoCo-v2 twin, and evaluates each with
#     kNN (tools/benchmarks/cifar10_study.py --preset gpu);
# and writes OUT_DIR/gpu_run.md and OUT_DIR/gpu_run.json
# (tools/benchmarks/gpu_report.py) and OUT_DIR/gpu_run.log.
# Environment: EPOCHS (training epochs per model, default 10), REPEATS
# (throughput rounds, default 2), PYTHON (default python3), STAGES (default
# "throughput train"; either alone to run only that part).
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=.gpu_run
ARCHIVE=${CIFAR10_SRC:-../shared/data/cifar10-jpg.tar.gz}

if [ "${1:-}" = "--prepare" ]; then
    mkdir -p "$CARRY/wheels"
    pip download --quiet --no-deps --python-version 3.12 \
        --only-binary=:all: -d "$CARRY/wheels" \
        mmengine==0.10.7 mmcv-lite==2.0.1 mmpretrain==1.2.0 'numpy<2' \
        addict yapf termcolor modelindex mat4py
    cp "$ARCHIVE" "$CARRY/cifar10-jpg.tar.gz"
    du -sh "$CARRY"
    exit 0
fi
if [ $# -lt 1 ]; then
    echo "error: usage: bash tools/benchmarks/gpu_run.sh OUT_DIR [--dry-run]" \
        "(or --prepare, here, before the run)" >&2
    exit 2
fi
OUT=$1
DRY=${2:-}
EPOCHS=${EPOCHS:-10}
REPEATS=${REPEATS:-2}
STAGES=${STAGES:-throughput train}
WORK=work_dirs/gpu_run
mkdir -p "$OUT" "$WORK"
LOG="$OUT/gpu_run.log"
: > "$LOG"
say() { echo "[gpu_run $(date +%H:%M:%S)] $*" | tee -a "$LOG"; }
run() {  # run (or with --dry-run print) a command, its output in the log
    say "\$ $*"
    [ "$DRY" = "--dry-run" ] && return 0
    "$@" >> "$LOG" 2>&1
}

PY=${PYTHON:-python3}
if [ "$DRY" != "--dry-run" ] && \
        ! "$PY" -c 'import mmengine, mmpretrain' 2>/dev/null; then
    if [ ! -d "$CARRY/wheels" ]; then
        echo "error: mmengine/mmpretrain are not installed and $CARRY/wheels" \
            "is missing: run 'bash tools/benchmarks/gpu_run.sh --prepare'" \
            "here and carry $CARRY" >&2
        exit 1
    fi
    say "environment: $CARRY/venv over $($PY --version), wheels of $CARRY"
    "$PY" -m venv --system-site-packages "$CARRY/venv"
    PY="$CARRY/venv/bin/python"
    # The system's numpy first (its opencv and torch were built for it);
    # numpy<2 from the wheels only if mmseed's stack does not import on it.
    # (numpy 2 breaks only mmcv's CPU hue jitter, which this run never uses:
    # its training views are made on the GPU.)
    "$PY" -m pip install --quiet --no-index --no-deps \
        $(ls "$CARRY"/wheels/*.whl | grep -v /numpy-) >> "$LOG" 2>&1
    if ! PYTHONPATH=$PWD "$PY" -c 'import mmseed.models' >> "$LOG" 2>&1; then
        say "mmseed does not import on the system's numpy: numpy<2 from $CARRY"
        "$PY" -m pip install --quiet --no-index --no-deps \
            "$CARRY"/wheels/numpy-*.whl >> "$LOG" 2>&1
    fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export PYTHONWARNINGS=ignore PYTHON="$PY"
say "python: $PY"

if [ ! -d data/cifar10/train ]; then
    src=$ARCHIVE
    [ -f "$CARRY/cifar10-jpg.tar.gz" ] && src="$CARRY/cifar10-jpg.tar.gz"
    run "$PY" tools/dataset_converters/prepare_cifar10.py --src "$src" \
        --out data/cifar10
fi

device=(--device cuda --amp bf16 --channels-last --cudnn-benchmark
        --repeats "$REPEATS")
# config | --method | images per step | extra options (CIFAR-10 at 32 px)
THROUGHPUT="
seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py|seed moco|512|
seed/seed_r18-cifar_to_r18w05-cifar_cifar10_gpu-aug.py|seed moco|512|
mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py|moco|512|
mocov2/mocov2_r18-cifar_1xb256-200e_cifar10_gpu-aug.py|moco|512|
dogo/dogo_r18-cifar_r18w05-cifar_1xb256-200e_cifar10.py|dogo|256|
simclrv2/simclrv2-distill_r18-cifar_to_r18w05-cifar_1xb512-400e_cifar10.py|simclrv2_distill|512|--cfg-options optim_wrapper.paramwise_cfg=None
crd/crd_r18-cifar_to_r18w05-cifar_1xb64-240e_cifar10.py|crd|256|
esvit/esvit_swin-cifar_1xb256-100e_cifar10.py|esvit|256|--cfg-options optim_wrapper.paramwise_cfg=None
seed/seed_r50_to_r18.py|seed|256|
"
reports=()
if [[ " $STAGES " == *" throughput "* ]]; then
    while IFS='|' read -r config methods batch extra; do
        [ -z "$config" ] && continue
        name=$(basename "$config" .py)
        json="$WORK/throughput_$name.json"
        reports+=("$json")
        # shellcheck disable=SC2086
        run "$PY" tools/benchmarks/throughput.py "configs/$config" \
            --method $methods --batch-size "$batch" "${device[@]}" \
            --out "$json" $extra || say "throughput of $name failed (see log)"
    done <<< "$THROUGHPUT"
fi
if [[ " $STAGES " == *" train "* ]]; then
    run "$PY" tools/benchmarks/cifar10_study.py --preset gpu \
        --epochs "$EPOCHS" --data-root data/cifar10 --work-root "$WORK/study" \
        || say "the CIFAR-10 run failed (see log)"
fi
run "$PY" tools/benchmarks/gpu_report.py --out "$OUT" \
    --study "$WORK/study" "${reports[@]}"
say "done: $OUT/gpu_run.md"
