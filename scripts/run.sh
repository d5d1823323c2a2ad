#!/usr/bin/env bash
# One command on a fresh machine: set everything up, then run the main job on
# the embedded fictional demo region.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/tomoni demo --out data/demo "$@"
