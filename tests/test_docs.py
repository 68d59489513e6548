"""Every Python block of the notebook walk-through (docs/notebook.md) runs, in order, from the project root."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_notebook_walk_through_runs(monkeypatch, capsys):
    text = (ROOT / "docs" / "notebook.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/notebook.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "monoculture audit" in out and "most systemic failure" in out and "build" in out
    assert os.path.exists(os.path.join(namespace["folder"], "audit.html"))
