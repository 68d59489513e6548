"""Help that guides: no command's help names an option that command does not have."""

from __future__ import annotations

import re

import typer

from monoculture.cli.app import app


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
