"""Repeatable audits: settings from `monoculture.toml` or `[tool.monoculture]` in `pyproject.toml`.

The file is found from the current directory upward (or named with ``--config FILE``). Keys are the
`audit` option names (``max-homogenization`` or ``max_homogenization``; ``id`` for ``--id``).
Precedence: command line > config file > built-in defaults. Unknown keys are an error, never ignored.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ..errors import UsageError

FILE_NAMES = ("monoculture.toml", "pyproject.toml")


def find_config(start: Path | None = None) -> Path | None:
    """The nearest monoculture.toml, or pyproject.toml with a [tool.monoculture] table, at or above start."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "monoculture.toml"
        if candidate.is_file():
            return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                continue
            if isinstance(data.get("tool"), dict) and "monoculture" in data["tool"]:
                return pyproject
    return None


def load_config(path: Path) -> dict[str, Any]:
    """The settings table of a config file (the whole file, or [tool.monoculture] of a pyproject.toml)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("config file not found", file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"not valid TOML ({exc})", file=str(path)) from None
    except OSError as exc:
        raise UsageError(f"cannot read the config file ({exc.strerror})", file=str(path)) from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("monoculture", {})
    if not isinstance(data, dict):
        raise UsageError("[tool.monoculture] must be a table", file=str(path))
    if "audit" in data and isinstance(data["audit"], dict):
        data = {**{k: v for k, v in data.items() if k != "audit"}, **data["audit"]}
    return data


def to_defaults(settings: dict[str, Any], names: dict[str, str], path: Path, known: list[str]) -> dict[str, Any]:
    """Map config keys to the command's parameter names (`names`: accepted spelling → parameter).

    `known` lists the option names to suggest when a key is unknown.
    """
    out: dict[str, Any] = {}
    for key, value in settings.items():
        norm = key.strip().lstrip("-").replace("-", "_")
        if norm not in names:
            raise UsageError(f"unknown setting '{key}'; known settings: {', '.join(sorted(known))}", file=str(path))
        out[names[norm]] = value
    return out
