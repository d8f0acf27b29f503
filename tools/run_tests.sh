#!/usr/bin/env bash
# Set up the environment (tools/setup_env.sh) and run the test suite (CPU).
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -k seed`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
VENV=${MMSEED_VENV:-.venv}
exec "$VENV/bin/python" -m pytest -q "$@"
