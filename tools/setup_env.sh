#!/usr/bin/env bash
# Build mmseed's environment on a fresh machine: a virtual environment in
# .venv with the pinned stack (requirements/*.txt) and mmseed (editable), then
# CIFAR-10 in data/cifar10. Idempotent: a rerun with unchanged requirements
# installs nothing and the data step is a no-op.
# Environment: PYTHON (the interpreter for the venv, default python3),
# MMSEED_VENV (default .venv), CIFAR10_SRC (archive, default
# ../shared/data/cifar10-jpg.tar.gz).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${MMSEED_VENV:-.venv}
REQS="requirements/runtime.txt requirements/interop.txt requirements/tests.txt"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.mmseed-requirements"
wanted=$(cat $REQS setup.py | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "[setup] installing the pinned stack (a few minutes the first time)"
    # shellcheck disable=SC2046
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        $(printf -- '-r %s ' $REQS)
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -e .
    "$VENV/bin/pip" check
    echo "$wanted" > "$stamp"
fi

echo "[setup] preparing CIFAR-10 in data/cifar10"
"$VENV/bin/python" tools/dataset_converters/prepare_cifar10.py \
    ${CIFAR10_SRC:+--src "$CIFAR10_SRC"}
echo "[setup] done: activate with 'source $VENV/bin/activate'"
