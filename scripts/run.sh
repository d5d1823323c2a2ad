#!/usr/bin/env bash
# One command on a fresh machine: set everything up, prepare the fictional demo
# region and start the app on it (http://localhost:8501, works with no internet).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/tomoni demo --out data/demo
echo "[run] starting the app: open http://localhost:8501 (Ctrl+C to stop)"
exec .venv/bin/tomoni serve "$@"  # this machine only (127.0.0.1); see README for a shared deployment
