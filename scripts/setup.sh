#!/usr/bin/env bash
# Set up everything tomoni-map needs on a fresh Debian/Ubuntu machine.
# Idempotent: a second run only checks. Used by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${TOMONI_VENV:-.venv}

# 1. System packages (Debian): Japanese fonts for maps and reports, Chromium for
#    the real-browser tests and map screenshots, Pango for the PDF reports (WeasyPrint),
#    Node.js/npm for the map assets.
APT_PACKAGES=(fonts-ipaexfont-gothic chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] apt: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. Python: a virtual environment with the project and its dev tools.
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.tomoni-installed"
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] pip: installing tomoni-map and its dependencies"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
# 3. Browser assets for offline maps: pinned versions from the npm registry,
#    copied into static/vendor/ (served by Streamlit at /app/static/vendor/).
if ! "$VENV/bin/python" -c "import sys; from geo.outputs.assets import vendor_ready; sys.exit(0 if vendor_ready() else 1)"; then
  echo "[setup] npm: installing map assets (assets/package.json)"
  (cd assets && npm install --no-audit --no-fund --ignore-scripts --loglevel=error)
  "$VENV/bin/python" -m geo.outputs.assets
fi

echo "[setup] ready: $("$VENV/bin/python" --version), $("$VENV/bin/tomoni" --help >/dev/null && echo 'tomoni ok')"
