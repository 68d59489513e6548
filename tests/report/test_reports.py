"""Every format parsed back and checked against the result object; HTML safety; gates and exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

import monoculture
from monoculture.errors import UsageError
from monoculture.measure.result import AuditResult, MultiplicityResult
from monoculture.report import EXTENSIONS, REGISTRY, Format, render
from monoculture.report.csv import neutralise
from monoculture.simulate.result import DynamicsResult, UrnResult
from monoculture.spec import InferenceOptions, Thresholds

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
LENDERS = [str(p) for p in sorted(SAMPLE.glob("lender_*.*"))]
FAST = InferenceOptions(bootstrap=200, permutations=199)


@pytest.fixture(scope="module")
def result():
    return monoculture.audit(LENDERS, id_column="applicant_id", decision="approved", label="repaid",
                             groups=["race", "sex"], inference=FAST,
                             gates=Thresholds(max_homogenization=100, max_group_systemic_failure_ratio=1.25))


def test_every_kind_of_result_has_its_formats_and_refuses_the_others():
    """The registry is exhaustive: audits and multiplicity come in every format, simulations in five."""
    simulation_formats = {Format.table, Format.json, Format.csv, Format.markdown, Format.html}
    expected = {AuditResult: set(Format), MultiplicityResult: set(Format), DynamicsResult: simulation_formats,
                UrnResult: simulation_formats}
    for kind, formats in expected.items():
        assert {f for k, f in REGISTRY if k is kind} == formats, kind.__name__
    assert {k for k, _ in REGISTRY} == set(expected)
    assert set(EXTENSIONS.values()) <= set(Format)
    urn = UrnResult.__new__(UrnResult)
    with pytest.raises(UsageError, match="simulate urn reports come as table, json, csv, markdown, html, not junit"):
        render(urn, Format.junit)


def test_csv_round_trips_to_the_result(result):
    rows = list(csv.DictReader(io.StringIO(render(result, Format.csv))))
    get = {(r["scope"], r["attribute"], r["group"], r["metric"], r["decision_maker"], r["failures"]): r for r in rows}
    h = get[("overall", "", "", "homogenization", "", "")]
    assert float(h["value"]) == result.overall.homogenization.value
    assert (float(h["ci_low"]), float(h["ci_high"])) == result.overall.homogenization.ci
    for g in result.groups:
        row = get[("group", g.attribute, g.group, "systemic_failure", "", "")]
        assert float(row["value"]) == g.systemic_failure.value
    for p in result.overall.pairwise:
        row = get[("pair", "", "", "error_consistency", f"{p.a}|{p.b}", "")]
        assert float(row["value"]) == p.error_consistency.value
    bins = [r for r in rows if r["scope"] == "overall" and r["metric"] == "failure_count_observed"]
    assert [float(b["value"]) for b in bins] == [b.observed.value for b in result.overall.failure_count_histogram]


def test_jsonl_rows_equal_csv_rows(result):
    lines = [json.loads(line) for line in render(result, Format.jsonl).splitlines()]
    rows = list(csv.DictReader(io.StringIO(render(result, Format.csv))))
    assert len(lines) == len(rows)
    assert all(str(a["metric"]) == b["metric"] for a, b in zip(lines, rows, strict=True))


def test_csv_neutralises_formula_injection():
    assert neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert neutralise("+1+2 group") == "'+1+2 group"
    assert neutralise("@cmd") == "'@cmd"
    assert neutralise("-0.5") == "-0.5"
    assert neutralise("-3e-05") == "-3e-05"
    assert neutralise("plain") == "plain"


def test_markdown_leads_with_the_verdict(result):
    md = render(result, Format.markdown)
    first = md.splitlines()[0]
    assert first.startswith("# monoculture audit — ❌ FAIL")
    assert "| race | B |" in md and "## Thresholds" in md


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_escapes_labels(tmp_path, result):
    html = render(result, Format.html)
    parser = _Collector()
    parser.feed(html)
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert not any(name in ("src", "href") for name, _ in parser.attrs)
    assert "http:" not in html and "https:" not in html and "url(" not in html and "@import" not in html
    assert parser.tags.count("svg") >= 4  # histogram, heat map, two dot plots (+ per-group histograms)
    assert len(html.encode()) < 200_000
    # Hostile group and decision-maker names are escaped, never interpreted.
    evil = '<img src=x onerror=alert(1)>"&'
    for name in ("a", "b"):
        (tmp_path / f"{name}.csv").write_text(
            "id,decision,label,g\n" + "".join(f'{j},{j % 2},{(j // 2) % 2},"{evil if j < 5 else "x"}"\n'
                                             for j in range(40)))
    r = monoculture.audit([f"{evil}={tmp_path / 'a.csv'}", str(tmp_path / "b.csv")], label="label",
                          groups=["g"], inference=FAST)
    html = render(r, Format.html)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;&quot;&amp;" in html


def test_junit_has_a_case_per_threshold_and_group(result):
    root = ET.fromstring(render(result, Format.junit))
    cases = root.findall(".//testcase")
    assert len(cases) == len(result.gates) == 7 + 6  # H: overall + 6 groups; ratio: 6 groups
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == sum(g.status == "fail" for g in result.gates) > 0
    assert root.attrib["failures"] == str(len(failures))


def test_gate_on_ci_uses_the_lower_bound():
    h = monoculture.audit(LENDERS, id_column="applicant_id", decision="approved", label="repaid",
                          inference=FAST).overall.homogenization
    limit = (h.ci[0] + h.value) / 2  # above the interval's lower bound, below the estimate
    r = monoculture.audit(LENDERS, id_column="applicant_id", decision="approved", label="repaid", inference=FAST,
                          gates=Thresholds(max_homogenization=limit, gate_on="ci"))
    gate = r.gates[0]
    assert r.overall.homogenization.ci == h.ci and gate.compared == h.ci[0]
    assert gate.status == "pass"  # on the point estimate this would fail
    point = monoculture.audit(LENDERS, id_column="applicant_id", decision="approved", label="repaid",
                              inference=FAST, gates=Thresholds(max_homogenization=limit))
    assert point.gates[0].status == "fail"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monoculture", *args], capture_output=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=120)


COMMON = ["--id", "applicant_id", "--decision", "approved", "--label", "repaid", "--bootstrap", "100",
          "--permutations", "99"]


def test_exit_codes_for_pass_fail_error_and_exit_zero(tmp_path):
    assert run("audit", *LENDERS, *COMMON, "--max-homogenization", "1000", "-q").returncode == 0
    failed = run("audit", *LENDERS, *COMMON, "--max-homogenization", "2", "-f", "json")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["verdict"] == "fail"  # stdout stays clean JSON
    assert run("audit", *LENDERS, *COMMON, "--max-homogenization", "2", "--exit-zero", "-q").returncode == 0
    assert run("audit", "nope.csv", "nope2.csv", *COMMON, "--max-homogenization", "2", "--exit-zero").returncode == 2


def test_github_summary_and_annotations(tmp_path):
    summary = tmp_path / "summary.md"
    proc = run("audit", *LENDERS, *COMMON, "--max-homogenization", "2", "--github", "-o", str(tmp_path / "r.json"),
               env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 1
    assert summary.read_text().startswith("# monoculture audit — ❌ FAIL")
    assert "::error title=monoculture max_homogenization::overall" in proc.stderr.decode()


@pytest.mark.parametrize("fmt", [f.value for f in Format])
def test_every_format_is_byte_identical_across_runs(tmp_path, fmt):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert run("audit", *LENDERS, *COMMON, "-f", fmt, "-o", str(out), "-q").returncode in (0, 1)
    assert a.read_bytes() == b.read_bytes()


def test_emit_ids_is_the_only_way_ids_leave(tmp_path):
    ids = tmp_path / "ids.txt"
    proc = run("audit", *LENDERS, *COMMON, "-f", "json", "--emit-ids", str(ids))
    data = json.loads(proc.stdout)
    lines = ids.read_text().splitlines()
    assert len(lines) == round(data["overall"]["systemic_failure"]["value"] * data["overall"]["n"])
    assert lines == sorted(lines) and all(line.startswith("A") for line in lines)
    for fmt in [f.value for f in Format]:
        out = run("audit", *LENDERS, *COMMON, "-f", fmt, "-q").stdout.decode()
        assert not any(i in out for i in lines[:20])


def test_json_output_validates_against_the_published_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(run("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    for extra in ([], ["--group", "race", "--intersect", "--group", "sex", "--max-homogenization", "3",
                       "--parity", "bommasani2022", "--suppress-below", "500"]):
        data = json.loads(run("audit", *LENDERS, *COMMON, "-f", "json", "-q", *extra).stdout)
        jsonschema.validate(data, schema)
    data["overall"]["homogenization"]["value"] = "high"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
