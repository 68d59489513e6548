#!/usr/bin/env bash
# The test suite: lint, then pytest (unit, property, CLI end-to-end, doctests). Installs into .venv.
source "$(dirname "$0")/_env.sh"
ruff check src tests bench
# The C scan of CSV inputs must have been built here, so its tests run (tests/test_csvscan.py).
export MONOCULTURE_REQUIRE_CSVSCAN=1
python -m pytest "$@"
