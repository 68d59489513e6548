"""Help that guides: no command's help names an option that command does not have."""

from __future__ import annotations

import re

import typer

from monoculture.cli.app import app
from monoculture.cli.help import PANEL_OF


def _commands(group, path: tuple[str, ...] = ()):
    yield path, group
    for name, sub in getattr(group, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_option_a_help_text_names_exists_on_that_command():
    root = typer.main.get_command(app)
    wrong = {}
    for path, command in _commands(root):
        if hasattr(command, "commands"):
            continue
        own = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        # "`audit --patterns`" names another command's option, as it should be named.
        text = re.sub(r"\b(?:audit|count|multiplicity|pseudonymize|simulate \w+)(?: [^`\s]+)* --[a-z-]+", "",
                      " ".join(texts))
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))
        missing = sorted(named - own)
        if missing:
            wrong[" ".join(path)] = missing
    assert not wrong, f"help texts name options their command lacks: {wrong}"


def test_a_report_written_to_a_file_says_so_on_stderr(tmp_path):
    from pathlib import Path

    from typer.testing import CliRunner

    root = Path(__file__).resolve().parents[2] / "sample_data"
    out = tmp_path / "r.json"
    args = ["audit", str(root / "lender_a.csv"), str(root / "lender_b.csv"), "--id", "applicant_id", "--decision",
            "approved", "--label", "repaid", "--bootstrap", "0", "--permutations", "0", "-o", str(out)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0 and out.exists()
    assert f"wrote {out}" in done.output
    quiet = CliRunner().invoke(app, [*args, "-q"])
    assert quiet.exit_code == 0 and "wrote" not in quiet.output


def test_every_option_is_in_a_panel_and_every_command_has_examples():
    """Help that guides: options grouped into panels (none left in the catch-all), no Python type noise,
    and each command ends with example command lines."""
    from typer.testing import CliRunner

    root = typer.main.get_command(app)
    for path, command in _commands(root):
        if hasattr(command, "commands"):
            continue
        loose = [p.name for p in command.params if p.param_type_name == "option" and p.name != "help"
                 and not getattr(p, "rich_help_panel", None) and p.name not in PANEL_OF]
        assert not loose, f"{' '.join(path)}: options outside every panel: {loose}"
        text = CliRunner().invoke(app, [*path, "--help"]).output
        assert "Examples:\n" in text and f"monoculture {' '.join(path)}" in text.split("Examples:")[1], path
        noise = re.findall(r"<(?:int|float|str|list\[[^\]]*\]|path)[^>]*>", text)
        assert not noise, f"{' '.join(path)}: type noise in help: {noise}"


def test_the_audit_help_leads_with_inputs_and_the_failure_rule():
    from typer.testing import CliRunner

    text = CliRunner().invoke(app, ["audit", "--help"]).output
    panels = re.findall(r"^([A-Z][a-z][a-z ]+):$", text, flags=re.M)
    assert panels[:4] == ["Arguments", "Inputs", "Failure rule", "Groups"], panels
    inputs = text.split("\nInputs:\n")[1]
    assert inputs.lstrip().startswith("--id COLUMN")
