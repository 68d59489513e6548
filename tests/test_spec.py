"""The audit specification: validated when built, in the library's words; the CLI says which flag."""

from __future__ import annotations

import dataclasses
import json
import re
import tokenize
from pathlib import Path

import pytest
from typer.testing import CliRunner

import monoculture
from monoculture.cli.app import app
from monoculture.cli.output import flag, message
from monoculture.errors import SETTING, InputError, UsageError
from monoculture.measure.result import AuditResult
from monoculture.multiplicity.spec import MultiplicitySpec
from monoculture.report.json import render_json
from monoculture.spec import (
    AuditSpec,
    FailureRule,
    InferenceOptions,
    Inputs,
    LinkOptions,
    SpecError,
    Thresholds,
)

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
LENDERS = [str(SAMPLE / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet")]
COMMON = dict(id_column="applicant_id", decision="approved", label="repaid")
SRC = Path(__file__).resolve().parent.parent / "src" / "monoculture"


@pytest.mark.parametrize(("build", "field", "problem"), [
    (lambda: LinkOptions(join="left"), "link.join", "must be one of inner, outer; got 'left'"),
    (lambda: LinkOptions(on_missing="ignore"), "link.on_missing", "must be one of error, drop; got 'ignore'"),
    (lambda: InferenceOptions(alpha=1.0), "inference.alpha", "must be between 0 and 1 (exclusive); got 1.0"),
    (lambda: InferenceOptions(bootstrap=-1), "inference.bootstrap", "takes a count >= 0; got -1"),
    (lambda: InferenceOptions(ci="basic"), "inference.ci", "must be one of percentile, bca; got 'basic'"),
    (lambda: Thresholds(gate_on="mean"), "gates.gate_on", "must be one of point, ci; got 'mean'"),
    (lambda: FailureRule(kind="wrong"), "rule.kind",
     "must be one of error, outcome, false-negative, false-positive; got 'wrong'"),
    (lambda: FailureRule(top_fraction=1.5), "rule.top_fraction", "must be between 0 and 1 (exclusive); got 1.5"),
    (lambda: FailureRule(threshold=0.5, top_fraction=0.2), "rule.top_fraction",
     "and a threshold exclude each other: give one"),
    (lambda: FailureRule(threshold=float("nan")), "rule.threshold", "must be a finite number; got nan"),
    (lambda: Inputs(), "inputs", "are missing: give input files (or pattern tables)"),
    (lambda: Inputs(paths=("a.csv",), patterns=("p.parquet",)), "patterns",
     "are read instead of input files: give either, not both"),
    (lambda: Inputs(paths=("a.csv",), layout="long"), "layout",
     "must be one of files, wide, stacked, transposed, helm, eee, lm-eval; got 'long'"),
    (lambda: AuditSpec.of(["a.csv"]), "rule.kind", "is not given and there is no label"),
    (lambda: AuditSpec.of(patterns=["p.parquet"], emit_ids="ids.txt"), "emit_ids", "needs the input files"),
    (lambda: AuditSpec.of(["a.csv"], label="y", parity="paper"), "measure.parity", "must be one of bommasani2022"),
    (lambda: AuditSpec.of(["a.csv"], label="y", engine="gpu"), "engine.engine", "must be one of auto, memory"),
    (lambda: MultiplicitySpec.of(["a.csv"], epsilon=-0.1), "multiplicity.epsilon", "must be >= 0; got -0.1"),
    (lambda: MultiplicitySpec.of(["a.csv"], split="race"), "multiplicity.split", "goes with select_on"),
])
def test_a_spec_that_cannot_work_is_refused_when_built(build, field, problem):
    with pytest.raises(SpecError) as caught:
        build()
    assert caught.value.field == field
    assert caught.value.problem.startswith(problem)
    assert "--" not in str(caught.value), "the library speaks of fields, not flags"


def _command_flags() -> set[str]:
    import typer

    flags: set[str] = set()

    def walk(command) -> None:
        for param in command.params:
            flags.update(param.opts)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return flags


def test_every_setting_a_library_message_names_is_a_flag_of_some_command():
    """Messages name settings in the spec's words ({field} or {field=value}); a CLI user must read the flag
    they can type. Scans every library module for the settings its messages name."""
    named = set()
    field = r"((?:[a-z_]+\.)+[a-z_]+|inputs|patterns|layout|emit_ids)"
    for path in SRC.rglob("*.py"):
        if "cli" in path.relative_to(SRC).parts:
            continue
        with path.open("rb") as fh:
            for token in tokenize.tokenize(fh.readline):
                if token.type != tokenize.STRING:
                    continue
                prefix = token.string[: token.string.index(token.string.lstrip("rbfuRBFU")[0])].lower()
                if "f" in prefix:  # an f-string names a setting in doubled braces: {{field}} or {{field=...}}
                    named |= set(re.findall(r"\{\{" + field + r"(?:=|\}\})", token.string))
                else:
                    named |= {m.group(1) for m in SETTING.finditer(token.string)}
        text = path.read_text()
        named |= set(re.findall(r'SpecError\(\s*"([a-z_.]+)"', text))
        named |= set(re.findall(r'one_of\(\s*"([a-z_.]+)"', text))
    assert len(named) > 40, f"the scan found only {sorted(named)}: the patterns above are out of date"
    flags = _command_flags()
    def typed(f: str) -> bool:  # a flag, or a phrase naming flags ("NAME=COLUMN of --id, --decision or --label")
        words = re.findall(r"--[a-z-]+", flag(f, None))
        return flag(f, None) in flags | {"INPUTS"} or (bool(words) and set(words) <= flags)
    unknown = {f: flag(f, None) for f in named if not typed(f)}
    assert not unknown, f"settings whose flag no command has: {unknown}"


def test_a_message_reads_in_library_words_and_as_flags():
    exc = InputError("3 rows have a missing decision; fix them or pass {link.on_missing=drop}", file="a.csv", row=2)
    assert str(exc) == "a.csv, line 3: 3 rows have a missing decision; fix them or pass link.on_missing=drop"
    assert message(exc) == "a.csv, line 3: 3 rows have a missing decision; fix them or pass --drop-missing"
    spec_error = SpecError("inference.alpha", "must be between 0 and 1 (exclusive); got 2")
    assert str(spec_error) == "inference.alpha must be between 0 and 1 (exclusive); got 2"
    assert message(spec_error) == "--alpha must be between 0 and 1 (exclusive); got 2"
    assert message(UsageError("{rule.kind=outcome} needs {rule.unfavorable=VALUE}")) == \
        "--failure outcome needs --unfavorable VALUE"
    assert message(UsageError("a {literal} brace and {x.y.z=1}")) == "a {literal} brace and --z 1"


def test_the_cli_names_the_flag():
    got = CliRunner().invoke(app, ["audit", *LENDERS, "--id", "applicant_id", "--decision", "approved",
                                   "--label", "repaid", "--alpha", "1.5"])
    assert got.exit_code == 2
    assert "Error: --alpha must be between 0 and 1 (exclusive); got 1.5" in got.output


def test_every_part_is_frozen():
    spec = AuditSpec.of(LENDERS, **COMMON)
    for part in (spec, spec.inputs, spec.columns, spec.rule, spec.link, spec.inference, spec.measure, spec.engine):
        with pytest.raises(dataclasses.FrozenInstanceError):
            part.__setattr__(dataclasses.fields(part)[0].name, None)


def _json(result: AuditResult) -> dict:
    return json.loads(render_json(result))


def test_the_spec_and_the_keywords_are_the_same_audit():
    kwargs = dict(COMMON, groups=["race"], inference=InferenceOptions(bootstrap=50, permutations=99, seed=4),
                  threshold=None, join="outer")
    by_keywords = monoculture.audit(LENDERS, **kwargs)
    by_spec = monoculture.audit(AuditSpec.of(LENDERS, **kwargs))
    assert _json(by_keywords) == _json(by_spec)


def test_the_options_echo_is_the_spec():
    spec = AuditSpec.of(LENDERS, **COMMON, groups=["race", "sex"], intersect=True, threshold=None,
                        inference=InferenceOptions(bootstrap=20, permutations=19), suppress_below=5)
    options = _json(monoculture.audit(spec))["options"]
    assert options["groups"] == ["race", "sex"] and options["intersect"] is True
    assert options["id"] == "applicant_id" and options["layout"] == "files" and options["join"] == "inner"
    assert options["failure"] == dataclasses.asdict(spec.rule)
    assert options["inference"] == dataclasses.asdict(spec.inference)
    assert options["suppress_below"] == 5 and options["gates"] == dataclasses.asdict(spec.measure.gates)
