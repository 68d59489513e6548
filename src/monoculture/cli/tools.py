"""The tools around an audit: keys and pseudonymised IDs, the report's JSON Schema, the settings in effect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import UsageError
from . import options as opt
from .app import app, config_defaults
from .help import PanelCommand, examples
from .output import errors_to_exit, stderr_console


@app.command("keygen", cls=PanelCommand, epilog=examples("monoculture keygen -o audit.key"))
def keygen_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the key (mode 0600).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key file.")] = False,
) -> None:
    """Write a fresh random 32-byte key for `pseudonymize`. Share it among the firms, never with the auditor."""
    err = stderr_console(False)
    with errors_to_exit(err):
        from ..link import pseudonymize as pseudo  # here: --help needs none of pyarrow

        pseudo.keygen(output, force=force)
    err.print(f"wrote a new key to {escape(str(output))} (mode 0600)")


@app.command("pseudonymize", cls=PanelCommand, epilog=examples(
    "monoculture pseudonymize dump.csv --id customer_no --key-file audit.key -o dump.pseudo.parquet"))
def pseudonymize_command(
    source: Annotated[str, typer.Argument(help="The dump to pseudonymise (CSV or Parquet).")],
    id_column: opt.IdColumn = "id",
    key_file: opt.KeyFile = None,
    output: opt.PseudoOutput = None,
    casefold: opt.Casefold = False,
    drop: opt.Drop = None,
) -> None:
    """Replace the ID column by HMAC-SHA256 tokens under a shared key, streaming; other columns pass through.

    IDs are canonicalised first (text, NFC, trimmed, optionally case-folded; integers in decimal), so the
    same person gets the same token in every firm's file. The key is never printed.
    """
    err = stderr_console(False)
    with errors_to_exit(err):
        if output is None:
            raise UsageError("name the output file with -o")
        if key_file is None or str(key_file) in ("", "."):
            raise UsageError("name the key with --key-file (create one with monoculture keygen)")
        from ..link import pseudonymize as pseudo

        key = pseudo.load_key(key_file)
        rows = pseudo.pseudonymize(source, str(output), id_column=id_column, key=key, casefold=casefold,
                                   drop=tuple(drop or ()))
    err.print(f"wrote {rows:,} rows with pseudonymous IDs to {escape(str(output))}")


@app.command("schema", cls=PanelCommand, epilog=examples("monoculture schema > report.schema.json"))
def schema() -> None:
    """Print the JSON Schema of the JSON report (`audit --format json`)."""
    from ..report.schema import report_schema

    print(json.dumps(report_schema(), indent=2, ensure_ascii=False))


@app.command("config", cls=PanelCommand, epilog=examples("monoculture config",
                                                                       "monoculture config --config ci.toml"))
def show_config(
    config: opt.ConfigFile = None,
) -> None:
    """Print the audit settings in effect here: each value and where it comes from (config file or default).

    The config file is monoculture.toml, or [tool.monoculture] in pyproject.toml, found from the current
    directory upward, or the file named with --config. Precedence: command line > config file > defaults.
    """
    err = stderr_console(False)
    with errors_to_exit(err):
        path, defaults = config_defaults(config)
    command = typer.main.get_command(app).commands["audit"]  # type: ignore[attr-defined]
    print(f"# config file: {path if path else 'none found'}")
    for param in command.params:
        if param.name in ("inputs", "config") or param.name is None:
            continue
        key = param.opts[0].lstrip("-") if param.opts else param.name
        if param.name in defaults:
            value, source = defaults[param.name], "config"
        else:
            value, source = param.default, "default"
        value = value.value if hasattr(value, "value") else value
        shown = "# (unset)" if value is None else json.dumps(value if not isinstance(value, Path) else str(value))
        print(f"{key} = {shown}  # {source}" if value is not None else f"# {key} (unset)  # {source}")
