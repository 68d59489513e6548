#!/usr/bin/env bash
# The test suite: lint, then pytest (unit, property, CLI end-to-end, doctests). Installs into .venv.
#
# By default the fast loop, run before each commit: Hypothesis's `dev` profile (fewer examples), and no
# tests marked `slow` (statistical coverage) or `spark` (a local Spark session). MONOCULTURE_TESTS=all
# runs everything with full example counts, as .ci/run does. Arguments go to pytest.
source "$(dirname "$0")/_env.sh"
ruff check src tests bench
# Where there is a C compiler, the C scan of CSV inputs must have been built, so its tests run
# (tests/test_csvscan.py); without one the install goes on without it and those tests are skipped.
if command -v "${CC:-cc}" >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; then
  export MONOCULTURE_REQUIRE_CSVSCAN=1
fi
if [ "${MONOCULTURE_TESTS:-}" = "all" ]; then
  python -m pytest --durations=15 "$@"
else
  python -m pytest -m "not slow and not spark" --durations=15 "$@"
fi
