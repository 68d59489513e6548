#!/usr/bin/env bash
# The test suite: lint, then pytest (unit, property, CLI end-to-end, doctests). Installs into .venv.
source "$(dirname "$0")/_env.sh"
ruff check src tests bench
# Where there is a C compiler, the C scan of CSV inputs must have been built, so its tests run
# (tests/test_csvscan.py); without one the install goes on without it and those tests are skipped.
if command -v "${CC:-cc}" >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; then
  export MONOCULTURE_REQUIRE_CSVSCAN=1
fi
python -m pytest "$@"
