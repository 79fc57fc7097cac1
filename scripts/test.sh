#!/usr/bin/env bash
# Installs what the tests need (scripts/setup.sh), then runs ruff and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m ruff check .
python3 -m pytest -q "$@"
