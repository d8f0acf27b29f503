#!/usr/bin/env bash
# Set up the environment (tools/setup_env.sh) and run the test suite (CPU).
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -k seed`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
VENV=${MMSEED_VENV:-.venv}
# Tests run in parallel processes (pytest-xdist), one per core up to 4:
# most of their time is tool start-up in subprocesses, which a single core
# serialises. MMSEED_TEST_WORKERS=0 runs them in this process.
WORKERS=${MMSEED_TEST_WORKERS:-$(( $(nproc) < 4 ? $(nproc) : 4 ))}
exec "$VENV/bin/python" -m pytest -q -n "$WORKERS" --durations=15 "$@"
