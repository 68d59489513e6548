"""Response modes seeded from prediction files (metrics.md §8): frozen and menu."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from monoculture.cli.app import app
from monoculture.simulate import core as dyn
from monoculture.simulate.choice import ChoiceRisks
from profiles import examples


def _files(d: Path, decisions: dict[str, np.ndarray], labels: np.ndarray, groups: np.ndarray) -> list[str]:
    paths = []
    for name, dec in decisions.items():
        path = d / f"{name}.csv"
        path.write_text("id,decision,label,g\n" + "".join(f"{j},{dec[j]},{labels[j]},{groups[j]}\n"
                                                          for j in range(len(labels))))
        paths.append(str(path))
    return paths


def _wrong_on(labels: np.ndarray, wrong: set[int]) -> np.ndarray:
    return np.array([1 - v if j in wrong else v for j, v in enumerate(labels)])


def _simulate(*args: str) -> dict:
    result = CliRunner().invoke(app, ["simulate", "dynamics", *args, "--label", "label", "-g", "g", "-f", "json",
                                      "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_frozen_allocations_follow_the_closed_form(tmp_path):
    """With fixed files the risk matrix never changes, so α_T ∝ α_0 (1 − ε)^{T·R}: checked by hand."""
    labels = np.array([1, 0] * 10)
    groups = np.array(["x"] * 10 + ["y"] * 10)
    # a fails 2 of group x's 10 and 6 of y's; b fails 5 of x's and 1 of y's.
    decisions = {"a": _wrong_on(labels, {0, 1, 10, 11, 12, 13, 14, 15}),
                 "b": _wrong_on(labels, {0, 1, 2, 3, 4, 10})}
    start = tmp_path / "start.csv"
    start.write_text("group,a,b\nx,0.5,0.5\ny,0.3,0.7\n")
    out = _simulate(*_files(tmp_path, decisions, labels, groups), "--init", str(start), "--epsilon", "0.5",
                    "--rounds", "7", "--tol", "0")
    assert out["response"] == "frozen" and out["learners"] == ["a", "b"] and out["rounds_run"] == 7
    risk = np.array([[0.2, 0.5], [0.6, 0.1]])
    alpha = np.array([[0.5, 0.5], [0.3, 0.7]]) * 0.5 ** (7 * risk)
    alpha /= alpha.sum(axis=1, keepdims=True)
    assert out["final"]["allocations"]["x"] == pytest.approx(alpha[0].tolist())
    assert out["final"]["allocations"]["y"] == pytest.approx(alpha[1].tolist())
    assert out["trajectory"][0]["learner_risks"]["x"] == pytest.approx([0.2, 0.5])
    assert out["beta"] == {"x": 0.5, "y": 0.5}
    # One learner for everyone deploys the best single file: b, (0.5 + 0.1) / 2 = 0.3 against a's 0.4.
    assert out["baseline"]["total_risk"] == pytest.approx(0.3)
    assert out["audit"] == [] and "frozen" in out["audit_reason"]


def test_menu_learners_deploy_the_best_file_for_their_users_and_specialise(tmp_path):
    rng = np.random.default_rng(2)
    n = 400
    labels = rng.integers(0, 2, n)
    groups = np.where(np.arange(n) < 240, "x", "y")

    def model(err_x: float, err_y: float) -> np.ndarray:
        wrong = np.where(groups == "x", rng.random(n) < err_x, rng.random(n) < err_y)
        return np.where(wrong, 1 - labels, labels)

    decisions = {"a_general": model(0.2, 0.2), "a_xfocus": model(0.05, 0.4), "b_general": model(0.22, 0.21),
                 "b_yfocus": model(0.4, 0.05)}
    rate = {f: {g: float((d != labels)[groups == g].mean()) for g in ("x", "y")} for f, d in decisions.items()}
    out = _simulate(*_files(tmp_path, decisions, labels, groups), "--menu", "lender_a=a_general,a_xfocus",
                    "--menu", "lender_b=b_general,b_yfocus", "--epsilon", "0.9", "--rounds", "400")
    assert out["response"] == "menu" and out["menus"] == {"lender_a": ["a_general", "a_xfocus"],
                                                          "lender_b": ["b_general", "b_yfocus"]}
    assert out["converged"] and out["final"]["deployed"] == ["a_xfocus", "b_yfocus"]
    assert {s["group"]: s["learner"] for s in out["final"]["segmentation"]} == {"x": "lender_a", "y": "lender_b"}
    totals = [t["total_risk"] for t in out["trajectory"]]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(totals))
    # Each round, each learner's file is the best of its menu for the people it serves (by enumeration).
    for t in out["trajectory"]:
        for i, offered in enumerate(out["menus"].values()):
            def cost(f: str, i: int = i, t: dict = t) -> float:
                return sum(out["beta"][g] * t["allocations"][g][i] * rate[f][g] for g in ("x", "y"))
            assert cost(t["deployed"][i]) <= min(cost(f) for f in offered) + 1e-12
            assert t["learner_risks"]["x"][i] == pytest.approx(rate[t["deployed"][i]]["x"])
    assert [a["learners"] for a in out["audit"]] == ["first round", "final"]
    # The final audit is of the deployed files: S is the share both fail.
    both = float(((decisions["a_xfocus"] != labels) & (decisions["b_yfocus"] != labels)).mean())
    assert out["audit"][1]["overall"]["systemic_failure"]["value"] == pytest.approx(both)


@settings(max_examples=examples(40), deadline=None)
@given(seed=st.integers(0, 2**31), g=st.integers(1, 4), k=st.integers(1, 4), extra=st.integers(0, 5),
       eps=st.floats(0.05, 0.95))
def test_total_risk_never_rises_with_menus(seed, g, k, extra, eps):
    """Choosing the best file of a menu, then the multiplicative-weights update: neither raises the total."""
    rng = np.random.default_rng(seed)
    owner = np.concatenate([np.arange(k), rng.integers(0, k, extra)])
    risks = ChoiceRisks(rng.random((g, len(owner))), owner)
    start = np.eye(len(owner))[:k]  # each learner starts on its first file
    traj = dyn.run(risks, rng.dirichlet(np.ones(g)), rng.dirichlet(np.ones(k), g), epsilon=eps, rounds=30, tol=0,
                   thetas=start)
    totals = np.array([s.total_risk for s in traj.steps] + [traj.final.total_risk])
    assert (np.diff(totals) <= 1e-12).all(), totals
    for step in traj.steps:  # a learner only ever deploys a file its owner offers
        assert (owner[step.thetas.argmax(axis=1)] == np.arange(k)).all()


@pytest.mark.parametrize("args, message", [
    (["--menu", "a=a,zz"], "offers 'zz', which is not among the inputs"),
    (["--menu", "a=a"], "no decision-maker offers 'b'"),
    (["--menu", "a=a,b", "--menu", "c=b"], "'b' is offered by a and c"),
    (["--response", "menu"], "--response menu needs the files each decision-maker offers"),
    (["--response", "frozen", "--menu", "a=a,b"], "that is --response menu"),
    (["--menu", "a"], "--menu takes NAME=INPUT,INPUT"),
    (["--target", "label"], "reads prediction files (as audit does), not --quadratic, --features or --target"),
    (["--learners", "3"], "contradicts the 2 decision-makers"),
])
def test_bad_menus_get_one_clear_line(tmp_path, args, message):
    labels = np.array([1, 0] * 5)
    files = _files(tmp_path, {"a": labels, "b": 1 - labels}, labels, np.array(["x", "y"] * 5))
    result = CliRunner().invoke(app, ["simulate", "dynamics", *files, "--label", "label", "-g", "g", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
