"""The README's examples work as written: every `monoculture` command in its shell blocks is run, in a
scratch directory that has the project's sample_data/ (and ../shared/data where the command names it)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
# Files and places the reader supplies: commands naming them are examples of shape, not runnable as is.
SUPPLIED = ("a.csv", "dump.csv", "s3a://", "audit.key")


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)  # continuation lines
        for line in joined.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("monoculture "):
                out.append(line)
    return out


COMMANDS = _commands()


def test_the_readme_has_examples_to_run():
    assert len(COMMANDS) >= 10, COMMANDS


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=[c[:60] for c in COMMANDS])
def test_a_readme_command_runs_as_written(command, tmp_path):
    if any(s in command for s in SUPPLIED):
        pytest.skip("names files the reader supplies")
    if "$D" in command and not SHARED.exists():
        pytest.skip("needs ../shared/data")
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    if "--patterns patterns.parquet" in command:  # the count example before it writes the table
        prior = next(c for c in COMMANDS if c.startswith("monoculture count"))
        assert _run(prior, tmp_path).returncode == 0
    done = _run(command, tmp_path)
    assert done.returncode in (0, 1), f"{command}\n{done.stderr[-2000:]}"  # 1: a threshold failed, as shown
    assert "Traceback" not in done.stderr


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    args = [a.replace("$D", str(SHARED)) for a in shlex.split(command)]
    expanded = []
    for a in args[1:]:  # globs, as the shell would expand them
        hits = sorted(str(p.relative_to(cwd)) for p in cwd.glob(a)) if any(ch in a for ch in "*?[") and "/" in a \
            and not a.startswith("label_") else []
        expanded.extend(hits or [a])
    env = os.environ | {"COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "monoculture", *expanded], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=600)
