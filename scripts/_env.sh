# Sourced by the scripts: make .venv with monoculture and its test tools installed (once per pyproject change).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Rebuilt when what the install compiles changes too (the C extension is built into the source tree).
STAMP=.venv/.installed-$(cat pyproject.toml setup.py src/monoculture/read/_csvscan.c src/monoculture/read/_idtable.c \
  src/monoculture/measure/metrics/_pmf.c | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ]; then
  echo "Installing monoculture and its test tools into .venv (once) ..." >&2
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip \
         && .venv/bin/python -m pip install --quiet -e ".[test]"; } >.venv/install.log 2>&1; then
    cat .venv/install.log >&2
    echo "Installing into .venv failed; the log is above." >&2
    exit 2
  fi
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
