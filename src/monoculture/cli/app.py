"""The `monoculture` command's Typer app, its config-file defaults and its entry point.

The commands live one family to a module (`audit`, `multiplicity`, `simulate`, `tools`); each parses its
options, builds the library's spec, calls the library and renders.

Exit codes: 0 the audit ran; 1 a threshold failed (reserved for gates); 2 usage, configuration or input
error (one line on stderr, no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..errors import MonocultureError
from .config import find_config, load_config, to_defaults
from .output import EXIT_ERROR, EXIT_OK, message

app = typer.Typer(
    name="monoculture",
    help="Audit algorithmic monoculture: are the same people failed by every decision-maker?\n\n"
    "Exit codes: 0 ran; 1 a threshold failed; 2 usage, configuration or input error.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"monoculture {__version__}")
        raise typer.Exit(EXIT_OK)


def _setting_names() -> dict[str, str]:
    command = typer.main.get_command(app).commands["audit"]  # type: ignore[attr-defined]
    names: dict[str, str] = {}
    for param in command.params:
        if param.name in ("inputs", "config") or param.name is None:
            continue
        names[param.name] = param.name
        for o in param.opts:
            names[o.lstrip("-").replace("-", "_")] = param.name
    return names


def config_defaults(explicit: Path | None) -> tuple[Path | None, dict]:
    path = explicit if explicit is not None else find_config()
    if path is None:
        return None, {}
    command = typer.main.get_command(app).commands["audit"]  # type: ignore[attr-defined]
    known = [o.lstrip("-") for p in command.params if p.name not in ("inputs", "config") for o in p.opts
             if o.startswith("--")]
    defaults = to_defaults(load_config(Path(path)), _setting_names(), Path(path), known)
    repeatable = {p.name for p in command.params if getattr(p, "multiple", False)}
    # A repeatable option given one value in the file (`id = "applicant_no"`) is a list of one.
    return path, {k: [v] if k in repeatable and isinstance(v, str) else v for k, v in defaults.items()}


def _config_arg(argv: list[str]) -> Path | None:
    for i, a in enumerate(argv):
        if a == "--config" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if a.startswith("--config="):
            return Path(a.split("=", 1)[1])
    return None


def main() -> None:
    """Entry point: settings from the config file become defaults; errors are one line with exit code 2."""
    try:
        _, defaults = config_defaults(_config_arg(sys.argv[1:]))
    except MonocultureError as exc:
        sys.stderr.write(f"Error: {message(exc)}\n")
        sys.exit(EXIT_ERROR)
    try:
        typer.main.get_command(app)(default_map={"audit": defaults}, prog_name="monoculture")
    except SystemExit:
        raise
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        sys.stderr.write(f"Error: internal error ({type(exc).__name__}); rerun with --debug and report it\n")
        sys.exit(EXIT_ERROR)
