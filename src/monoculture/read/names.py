"""Input arguments into decision-maker names: ``NAME=PATH``, or a path named by its file stem."""

from __future__ import annotations

import os

from .frames import PREFIX as FRAME_PREFIX
from .pipes import STDIN


def split_name(arg: str) -> tuple[str | None, str]:
    """``NAME=PATH`` → (NAME, PATH); a plain path (even one containing '=') → (None, PATH).

    The name is the part before the first '=' whose remainder names an existing file (or '-'), so both
    names and paths may contain '='. A name may not contain a path separator.
    """
    if os.path.exists(arg) or "=" not in arg:
        return None, arg
    positions = [i for i, ch in enumerate(arg) if ch == "="]
    for i in positions:
        name, path = arg[:i], arg[i + 1:]
        if name and os.sep not in name and (path == STDIN or os.path.exists(path)):
            return name.strip(), path
    name, path = arg.split("=", 1)
    if name and os.sep not in name:
        return name.strip(), path
    return None, arg


def named_path(arg: str) -> tuple[str, str]:
    """(decision-maker name, path) of one files-layout argument: NAME=PATH, or the path named by its stem."""
    name, path = split_name(arg)
    return name or (stem(path) if path != STDIN else "stdin"), path


def stem(path: str) -> str:
    if path.startswith(FRAME_PREFIX):  # an in-memory input: its key
        return path.removeprefix(FRAME_PREFIX)
    base = os.path.basename(path)
    for suffix in (".csv.gz", ".tsv.gz", ".txt.gz", ".parquet", ".csv", ".tsv", ".txt", ".pq", ".parq"):
        if base.lower().endswith(suffix):
            return base[: -len(suffix)]
    return base.rsplit(".", 1)[0] if "." in base else base
