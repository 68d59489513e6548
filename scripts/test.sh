#!/usr/bin/env bash
# The test suite: lint, then pytest (unit, property, CLI end-to-end, doctests). Installs into .venv.
source "$(dirname "$0")/_env.sh"
ruff check src tests bench
python -m pytest "$@"
