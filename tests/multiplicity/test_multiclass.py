"""Multi-class Rashomon capacity from the CLI: class-probability columns per candidate (metrics.md §6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize
from typer.testing import CliRunner

from monoculture.cli.app import app

CLASSES = ["cat", "dog", "owl"]


def _write(d: Path, probs: dict[str, np.ndarray], labels: list[str], extra: str = "") -> list[str]:
    paths = []
    for name, p in probs.items():
        lines = ["id,decision,label," + ",".join(f"p_{c}" for c in CLASSES[:p.shape[1]]) + extra]
        for j, row in enumerate(p):
            lines.append(f"{j},{CLASSES[int(np.argmax(row))]},{labels[j]}," + ",".join(f"{v:.6f}" for v in row))
        path = d / f"{name}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(str(path))
    return paths


def _rounded(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    p = rng.dirichlet(np.ones(c), size=n).round(6)
    p[:, -1] = 1 - p[:, :-1].sum(axis=1)
    return p


def _capacity_of_two(p: np.ndarray, q: np.ndarray) -> float:
    """2^C of a two-input channel by a bounded scalar search over the input split (an independent oracle)."""
    def info(r: float) -> float:
        mix = r * p + (1 - r) * q
        kl = [np.sum(np.where(x > 0, x * np.log2(np.where(x > 0, x, 1) / mix), 0)) for x in (p, q)]
        return -(r * kl[0] + (1 - r) * kl[1])
    best = optimize.minimize_scalar(info, bounds=(0, 1), method="bounded", options={"xatol": 1e-10})
    return 2.0 ** max(-best.fun, -info(0.0), -info(1.0), 0.0)


def _run(args: list[str]) -> dict:
    result = CliRunner().invoke(app, ["multiplicity", *args, "--label", "label", "-f", "json", "--bootstrap", "0",
                                      "--epsilon", "1"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_probability_columns_give_the_capacity_of_each_persons_channel(tmp_path):
    rng = np.random.default_rng(4)
    probs = {"a": _rounded(rng, 40, 3), "b": _rounded(rng, 40, 3)}
    labels = [CLASSES[i % 3] for i in range(40)]
    files = _write(tmp_path, probs, labels)
    expected = np.mean([_capacity_of_two(probs["a"][j], probs["b"][j]) for j in range(40)])
    by_glob = _run([*files, "--probabilities", "p_*"])
    by_names = _run([*files, "--probabilities", "p_cat,p_dog", "--probabilities", "p_owl"])
    assert by_glob["mean_rashomon_capacity"]["value"] == pytest.approx(expected, abs=1e-5)
    assert by_names["mean_rashomon_capacity"] == by_glob["mean_rashomon_capacity"]
    assert by_glob["mean_score_std"]["value"] is None and "--score" in by_glob["mean_score_std"]["reason"]


def test_two_probability_columns_agree_with_the_binary_score(tmp_path):
    rng = np.random.default_rng(5)
    probs = {n: _rounded(rng, 30, 2) for n in ("a", "b", "c")}
    files = _write(tmp_path, probs, [CLASSES[i % 2] for i in range(30)])
    two = _run([*files, "--probabilities", "p_cat,p_dog"])
    score = _run([*files, "--score", "p_dog"])
    assert two["mean_rashomon_capacity"]["value"] == pytest.approx(score["mean_rashomon_capacity"]["value"],
                                                                    abs=1e-5)


@pytest.mark.parametrize("case, message", [
    ("sum", "sum to 1.1, not 1"),
    ("range", "must be a number in [0, 1]; got -0.1"),
    ("pattern", "no column matches the probability pattern 'q_*'"),
    ("classes", "every candidate needs the same classes"),
    ("both", "not both"),
])
def test_bad_probabilities_get_one_clear_line(tmp_path, case, message):
    rng = np.random.default_rng(6)
    probs = {"a": _rounded(rng, 10, 3), "b": _rounded(rng, 10, 3)}
    if case == "sum":
        probs["b"][3] = [0.5, 0.3, 0.3]
    if case == "range":
        probs["b"][3] = [-0.1, 0.6, 0.5]
    labels = [CLASSES[i % 3] for i in range(10)]
    files = _write(tmp_path, probs, labels)
    if case == "classes":
        files[1:] = _write(tmp_path / "..", {"b2": probs["b"][:, :2] / probs["b"][:, :2].sum(1, keepdims=True)},
                           labels)
    pattern = {"pattern": "q_*"}.get(case, "p_*")
    args = ["multiplicity", *files, "--label", "label", "--probabilities", pattern]
    if case == "both":
        args += ["--score", "p_cat"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    if case in ("sum", "range"):
        assert "b.csv" in result.output and "line 5" in result.output  # the 4th data row
