# Shared by the benchmark scripts (linear.sh, semi.sh, knn.sh); source it:
#
#   source "$(dirname "$0")/_common.sh"
#   bench_parse KIND "$@"   # KIND names the default work dir: linear, semi, knn
#   bench_preflight         # preflight.py: checkpoint fits the backbone, label files
#   bench_run train         # tools/train.py, or tools/dist_train.sh when GPUS > 1
#   bench_run test          # tools/test.py CONFIG CHECKPOINT, or tools/dist_test.sh
#   bench_report [KEY]      # work dir, log, last log line with KEY (accuracy/top1)
#
# The scripts take: CONFIG CHECKPOINT [GPUS] [train.py/test.py options]
# (GPUS: a whole number; absent or 1 runs one process without a launcher).
# bench_parse sets
#   BENCH_KIND BENCH_CONFIG BENCH_CHECKPOINT BENCH_GPUS BENCH_WORK_DIR
#   BENCH_EXTRA    (array) the options after GPUS, passed on unchanged
#   BENCH_OPTIONS  (array) what the scripts add before them: --work-dir (unless
#                  the options hold one) and --cfg-options CKPT_KEY=CHECKPOINT
#                  plus the data_root keys when DATA_ROOT is set (all three
#                  splits; for knn the test split, which the bank follows)
# Environment:
#   WORK_DIR   work dir (default work_dirs/benchmarks/KIND/<config name>/<checkpoint
#              name>; a generic checkpoint name such as epoch_200 gets its folder's
#              name in front: <run folder>_epoch_200)
#   DATA_ROOT  data_root of the train, val and test datasets (knn: of the test
#              dataset, whose root the kNN bank follows)
#   CKPT_KEY   config key that receives CHECKPOINT (default
#              model.backbone.init_cfg.checkpoint; set it empty to add none)
#   PYTHON     interpreter (default python); NNODES NODE_RANK MASTER_ADDR PORT as
#              for tools/dist_train.sh

BENCH_TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python}
export PYTHON

bench_usage() {
    echo "usage: bash $0 CONFIG CHECKPOINT [GPUS] [options for tools/train.py]" >&2
    exit 2
}

# The name a checkpoint gives its work dir: its file name without extension,
# after its folder's name if the file name alone says nothing of the run.
bench_checkpoint_name() {
    local path=$1 stem
    stem=$(basename "$path")
    stem=${stem%.tar}
    stem=${stem%.*}
    if [[ $stem =~ ^((epoch|iter)_[0-9]+|latest|last|final|checkpoint|model|best.*)$ ]]; then
        stem="$(basename "$(dirname "$path")")_$stem"
    fi
    echo "$stem"
}

bench_parse() {
    BENCH_KIND=$1
    shift
    [ $# -ge 2 ] || bench_usage
    BENCH_CONFIG=$1
    BENCH_CHECKPOINT=$2
    shift 2
    BENCH_GPUS=1
    if [ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then
        BENCH_GPUS=$1
        shift
    fi
    if [ "$BENCH_GPUS" -lt 1 ]; then
        echo "error: GPUS must be at least 1, got $BENCH_GPUS" >&2
        exit 2
    fi
    BENCH_EXTRA=("$@")

    local config_name own_work_dir="" i
    config_name=$(basename "$BENCH_CONFIG")
    config_name=${config_name%.py}
    BENCH_WORK_DIR=${WORK_DIR:-work_dirs/benchmarks/$BENCH_KIND/$config_name/$(bench_checkpoint_name "$BENCH_CHECKPOINT")}
    for ((i = 0; i < ${#BENCH_EXTRA[@]}; i++)); do
        case ${BENCH_EXTRA[i]} in
            --work-dir) own_work_dir=${BENCH_EXTRA[i + 1]:-} ;;
            --work-dir=*) own_work_dir=${BENCH_EXTRA[i]#--work-dir=} ;;
        esac
    done
    BENCH_OPTIONS=()
    if [ -n "$own_work_dir" ]; then
        BENCH_WORK_DIR=$own_work_dir
    else
        BENCH_OPTIONS+=(--work-dir "$BENCH_WORK_DIR")
    fi
    local key=${CKPT_KEY-model.backbone.init_cfg.checkpoint}
    local cfg_options=()
    [ -z "$key" ] || cfg_options+=("$key=$BENCH_CHECKPOINT")
    # kNN configs test only: their bank loader reads the test loader's root.
    local loaders=(train_dataloader val_dataloader test_dataloader)
    [ "$BENCH_KIND" != knn ] || loaders=(test_dataloader)
    if [ -n "${DATA_ROOT:-}" ]; then
        for loader in "${loaders[@]}"; do
            cfg_options+=("$loader.dataset.data_root=$DATA_ROOT")
        done
    fi
    [ ${#cfg_options[@]} -eq 0 ] || BENCH_OPTIONS+=(--cfg-options "${cfg_options[@]}")
}

bench_preflight() {
    "$PYTHON" "$BENCH_TOOLS_DIR/benchmarks/preflight.py" "$BENCH_CONFIG" \
        --checkpoint "$BENCH_CHECKPOINT" "${BENCH_OPTIONS[@]}" "${BENCH_EXTRA[@]}"
}

bench_run() {
    local mode=$1
    echo "$BENCH_KIND: $BENCH_CONFIG on $BENCH_CHECKPOINT, $BENCH_GPUS process(es), work dir $BENCH_WORK_DIR"
    case $mode in
        train)
            if [ "$BENCH_GPUS" -gt 1 ]; then
                bash "$BENCH_TOOLS_DIR/dist_train.sh" "$BENCH_CONFIG" "$BENCH_GPUS" \
                    "${BENCH_OPTIONS[@]}" "${BENCH_EXTRA[@]}"
            else
                PYTHONPATH="$BENCH_TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
                "$PYTHON" "$BENCH_TOOLS_DIR/train.py" "$BENCH_CONFIG" \
                    "${BENCH_OPTIONS[@]}" "${BENCH_EXTRA[@]}"
            fi ;;
        test)
            if [ "$BENCH_GPUS" -gt 1 ]; then
                bash "$BENCH_TOOLS_DIR/dist_test.sh" "$BENCH_CONFIG" "$BENCH_CHECKPOINT" \
                    "$BENCH_GPUS" "${BENCH_OPTIONS[@]}" "${BENCH_EXTRA[@]}"
            else
                PYTHONPATH="$BENCH_TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
                "$PYTHON" "$BENCH_TOOLS_DIR/test.py" "$BENCH_CONFIG" "$BENCH_CHECKPOINT" \
                    "${BENCH_OPTIONS[@]}" "${BENCH_EXTRA[@]}"
            fi ;;
        *)
            echo "bench_run: mode must be train or test, got $mode" >&2
            exit 2 ;;
    esac
}

bench_report() {
    local key=${1:-accuracy/top1} log="" line
    log=$(ls -t "$BENCH_WORK_DIR"/*/*.log 2>/dev/null | head -n 1 || true)
    echo "results: $BENCH_WORK_DIR"
    if [ -z "$log" ]; then
        echo "  (no log found)"
        return 0
    fi
    echo "  log: $log"
    line=$(grep -h -- "$key" "$log" | tail -n 1 || true)
    if [ -n "$line" ]; then
        echo "  final: ${line#* - INFO - }"
    else
        echo "  no $key in the log (was validation switched off?)"
    fi
}
