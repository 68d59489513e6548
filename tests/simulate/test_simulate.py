"""`monoculture simulate`: participation dynamics (Dean et al. 2024) and repeat-use urns (Laufer 2020).

Numbers are checked against hand computations, scipy, brute force over individuals, and seeded simulation.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from conftest import brute_force
from monoculture.simulate import core as dyn
from monoculture.simulate.participation import Setting, data_setting, dynamics, learner_failures, quadratic_setting
from monoculture.simulate.risks import DataRisks, QuadraticRisks
from monoculture.simulate.urn import UrnModel, always_adverse_polya, expected_first_round, simulate_urns, urn_study
from profiles import examples

ROOT = Path(__file__).resolve().parents[2]
APPLICANTS = str(ROOT / "sample_data" / "applicants.csv")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monoculture", *args], capture_output=True, cwd=ROOT,
                          env={**os.environ}, timeout=120)


def quadratic(rng: np.random.Generator, g: int, d: int) -> QuadraticRisks:
    return QuadraticRisks(rng.normal(0, 2, (g, d)), rng.normal(0, 1, (g, d, d)) + 2 * np.eye(d),
                          rng.uniform(0, 1, g))


# --- multiplicative weights ------------------------------------------------------------------------------

def test_multiplicative_weights_matches_hand_computation():
    alphas = np.array([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]])
    risks = np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 2.0]])
    eps = 0.2
    # group 1: 0.2·0.8 = 0.16, 0.3·0.64 = 0.192, 0.5·0.8^0.5 = 0.447214; total 0.799214
    # group 2: 0.6·0.512 = 0.3072, 0.4·0.8 = 0.32, 0; total 0.6272
    expected = np.array([[0.16, 0.192, 0.5 * np.sqrt(0.8)], [0.3072, 0.32, 0.0]])
    expected /= expected.sum(axis=1, keepdims=True)
    got = dyn.multiplicative_weights(alphas, risks, eps)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got[0], [0.200197, 0.240236, 0.559567], atol=1e-6)


def test_multiplicative_weights_survives_huge_risks():
    got = dyn.multiplicative_weights(np.array([[0.5, 0.5]]), np.array([[1e6, 1e6 + 1]]), 0.5)
    np.testing.assert_allclose(got, [[2 / 3, 1 / 3]])


# --- learners --------------------------------------------------------------------------------------------

def test_quadratic_exact_minimiser_against_scipy():
    rng = np.random.default_rng(1)
    r = quadratic(rng, 3, 2)
    w = np.array([0.2, 0.5, 0.3])
    got = r.minimise(w, np.zeros(2))
    ref = optimize.minimize(lambda t: w @ r.risks(t), np.zeros(2), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(got, ref, atol=1e-5)
    np.testing.assert_allclose(r.gradient(w, got), 0, atol=1e-9)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_data_minimiser_and_gradient_against_scipy(loss):
    rng = np.random.default_rng(2)
    n = 300
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    group = rng.integers(0, 3, n)
    z = x @ np.array([0.3, 1.0, -0.5]) + np.where(group == 1, 1.5, 0) * x[:, 2]
    y = z + rng.normal(0, 0.5, n) if loss == "squared" else (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    r = DataRisks(x, y, group, 3, loss, l2=0.01)
    w = np.array([0.5, 0.2, 0.3])
    got = r.minimise(w, np.zeros(3))
    ref = optimize.minimize(lambda t: w @ r.risks(t), np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(got, ref, atol=1e-4)
    theta = rng.normal(size=3)
    numeric = optimize.approx_fprime(theta, lambda t: w @ r.risks(t), 1e-7)
    np.testing.assert_allclose(r.gradient(w, theta), numeric, rtol=1e-4, atol=1e-5)


def test_gradient_update_is_one_step():
    r = QuadraticRisks(np.array([[1.0, 0.0], [0.0, 1.0]]), np.stack([np.eye(2)] * 2), np.ones(2))
    beta, alphas = np.array([0.5, 0.5]), np.array([[1.0, 0.0], [0.0, 1.0]])
    traj = dyn.run(r, beta, alphas, epsilon=0.1, rounds=1, update="gradient", step_size=0.25)
    # learner 1: θ = 0 − 0.25·(0.5·2·(0 − φ_1)) = 0.25·φ_1
    np.testing.assert_allclose(traj.steps[0].thetas, [[0.25, 0.0], [0.0, 0.25]])


# --- risk reduction and equilibria -----------------------------------------------------------------------

@settings(max_examples=examples(30), deadline=None)
@given(seed=st.integers(0, 2**31), g=st.integers(1, 4), k=st.integers(1, 4), d=st.integers(1, 3),
       eps=st.floats(0.01, 0.9))
def test_total_risk_never_increases_under_exact_updates(seed, g, k, d, eps):
    rng = np.random.default_rng(seed)
    r = quadratic(rng, g, d)
    beta = rng.dirichlet(np.ones(g))
    traj = dyn.run(r, beta, rng.dirichlet(np.ones(k), g), epsilon=eps, rounds=40, tol=0)
    totals = np.array([s.total_risk for s in traj.steps] + [traj.final.total_risk])
    assert (np.diff(totals) <= 1e-9 * np.abs(totals[:-1]) + 1e-12).all(), totals


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_total_risk_never_increases_on_data(loss):
    rng = np.random.default_rng(5)
    n = 400
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    group = rng.integers(0, 3, n)
    z = x @ np.array([0.0, 1.0, 1.0]) * np.where(group == 2, -1, 1)
    y = z + rng.normal(0, 0.3, n) if loss == "squared" else (z > 0).astype(float)
    r = DataRisks(x, y, group, 3, loss, l2=1e-3)
    traj = dyn.run(r, np.bincount(group) / n, rng.dirichlet(np.ones(3), 3), epsilon=0.5, rounds=25, tol=0)
    totals = np.array([s.total_risk for s in traj.steps])
    assert (np.diff(totals) <= 1e-7).all(), totals


def test_well_separated_quadratic_ends_segmented_at_the_known_equilibrium(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        '[[group]]\nname = "left"\nphi = [-5.0, 0.0]\nbeta = 0.4\nalphas = [0.55, 0.45]\n\n'
        '[[group]]\nname = "right"\nphi = [5.0, 1.0]\nbeta = 0.6\nalphas = [0.45, 0.55]\n'
        'cov = [[2.0, 0.5], [0.0, 1.0]]\nsigma2 = 0.5\n', encoding="utf-8")
    result = dynamics(quadratic_setting(str(spec)), epsilon=0.1, rounds=500)
    assert result.converged and result.segmented
    seg = {s.group: s.learner for s in result.final.segmentation}
    assert seg == {"left": "learner_1", "right": "learner_2"}
    # At a segmented equilibrium each learner serves one group, so θ_i = φ_g and R_g = σ²_g.
    np.testing.assert_allclose(result.final.thetas, [[-5.0, 0.0], [5.0, 1.0]], atol=1e-6)
    assert result.final.risks == pytest.approx({"left": 1.0, "right": 0.5}, abs=1e-6)
    assert result.final.total_risk < result.baseline.total_risk
    # The single learner is the β-weighted, A_g-weighted compromise between the two φ.
    a_r = np.array([[2.0, 0.5], [0.0, 1.0]]).T @ np.array([[2.0, 0.5], [0.0, 1.0]])
    a = 0.4 * np.eye(2) + 0.6 * a_r
    b = 0.4 * np.array([-5.0, 0]) + 0.6 * a_r @ [5.0, 1]
    np.testing.assert_allclose(result.baseline.theta, np.linalg.solve(a, b))


def test_uniform_start_is_a_fixed_point():
    rng = np.random.default_rng(3)
    r = quadratic(rng, 3, 2)
    traj = dyn.run(r, np.full(3, 1 / 3), np.full((3, 2), 0.5), epsilon=0.3, rounds=5)
    np.testing.assert_allclose(traj.final_allocations, 0.5)
    assert traj.converged


# --- data setting, audit of the learners ----------------------------------------------------------------

def test_data_dynamics_audit_matches_brute_force():
    setting = data_setting(APPLICANTS, ["income", "tenure_years", "debt_ratio"], "repaid", ["race"])
    assert setting.loss == "logistic" and setting.groups == ["A", "B", "C", "D"]
    result = dynamics(setting, learners=3, rounds=30, epsilon=0.5, seed=4)
    final = result.audit[1]
    fail = learner_failures(setting.data, np.array(result.final.thetas), 0.0)
    bf = brute_force(fail)
    assert final.overall.n == len(fail)
    assert final.overall.systemic_failure.value == pytest.approx(bf["S"])
    assert final.overall.homogenization.value == pytest.approx(bf["H"])
    # decisions by hand: the logistic learner says 1 when xᵀθ ≥ 0
    theta = np.array(result.final.thetas[0])
    assert (fail[:, 0] == ((setting.data.x @ theta >= 0) != (setting.data.y == 1))).all()


def test_squared_loss_failure_rule_defaults_to_the_baselines_90th_percentile():
    setting = data_setting(APPLICANTS, ["income", "tenure_years"], "monthly_surplus", ["race"])
    assert setting.loss == "squared"
    result = dynamics(setting, learners=2, rounds=5)
    assert "90th percentile" in result.audit[0].rule
    theta_b = np.array(result.baseline.theta)
    err = np.abs(setting.data.y - setting.data.x @ theta_b)
    assert np.mean(err > np.quantile(err, 0.9)) == pytest.approx(0.1, abs=0.002)


def test_missing_values_are_an_error_or_counted(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("g,x,y\na,1,0\nb,2,1\na,,1\nb,4,0\na,5,1\nb,6,1\n", encoding="utf-8")
    proc = run("simulate", "dynamics", "--people", str(f), "--features", "x", "--target", "y", "-g", "g")
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "'x'" in err and "line 4" in err and "Traceback" not in err
    setting = data_setting(str(f), ["x"], "y", ["g"], drop_missing=True)
    assert setting.excluded == 1 and setting.rows == 6


# --- urns ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "draws", "cutoff"), [("polya", 1, 0.5), ("threshold", 10, 0.5),
                                                       ("threshold", 7, 0.3)])
def test_first_round_adverse_share_matches_closed_form(rule, draws, cutoff):
    p = np.array([0.2, 0.45])
    n = 200_000
    model = UrnModel(rule=rule, draws=draws, cutoff=cutoff)
    adverse, _ = simulate_urns(np.repeat(p, n), 1, model, np.random.default_rng(0))
    observed = adverse[0].reshape(2, n).mean(axis=1)
    expected = expected_first_round(p, model)
    if rule == "threshold":
        need = int(np.ceil(cutoff * draws))
        np.testing.assert_allclose(expected, [stats.binom(draws, q).pmf(range(need, draws + 1)).sum() for q in p])
    se = np.sqrt(expected * (1 - expected) / n)
    assert (np.abs(observed - expected) < 5 * se).all(), (observed, expected)


def test_polya_always_adverse_is_beta_binomial():
    p, m, r, t = 0.3, 2.0, 1.0, 4
    # by hand: Π_{s<4} (0.6 + s) / (2 + s) = 0.6·1.6·2.6·3.6 / (2·3·4·5)
    assert always_adverse_polya(np.array([p]), m, r, t)[0] == pytest.approx(0.6 * 1.6 * 2.6 * 3.6 / 120)
    adverse, _ = simulate_urns(np.full(200_000, p), t, UrnModel(urn_size=m, reinforcement=r),
                               np.random.default_rng(1))
    assert adverse.all(axis=0).mean() == pytest.approx(0.6 * 1.6 * 2.6 * 3.6 / 120, abs=0.003)
    # plain Pólya is a martingale: every round's adverse rate stays at p
    np.testing.assert_allclose(adverse.mean(axis=1), p, atol=0.004)


@pytest.mark.parametrize("reinforce", ["drawn", "adverse"])
@pytest.mark.parametrize("rule", ["polya", "threshold"])
def test_more_reinforcement_never_shrinks_the_gap_on_average(rule, reinforce):
    gaps = []
    for r in (0.0, 0.5, 1.0, 3.0):
        res = urn_study(["a", "b"], np.array([3000, 3000]), np.array([0.35, 0.45]), rounds=8, replications=30,
                        model=UrnModel(rule=rule, reinforce=reinforce, reinforcement=r, urn_size=2.0), seed=7)
        gaps.append((res.rounds[-1].gap.mean, res.rounds[-1].always_adverse_gap.mean))
    tol = 0.006  # Monte Carlo error of a mean over 30 runs of 3,000 people per group
    # The gap in who is locked into the adverse decision grows with reinforcement under every model.
    always = [a for _, a in gaps]
    assert all(a1 >= a0 - tol for a0, a1 in itertools.pairwise(always)), gaps
    assert always[-1] > always[0] + 0.05
    if (rule, reinforce) == ("polya", "drawn"):
        # plain Pólya: the gap in adverse decisions stays at the initial 10 points whatever the reinforcement
        assert all(abs(g - 0.10) < tol for g, _ in gaps), gaps
    if (rule, reinforce) == ("threshold", "drawn"):
        # the cut-off turns a 10-point gap in risk into a larger gap in decisions
        assert min(g for g, _ in gaps) > 0.2


def test_urn_study_is_deterministic_and_seed_sensitive():
    args = (["a", "b"], np.array([500, 500]), np.array([0.3, 0.4]))
    a = urn_study(*args, rounds=3, replications=5, seed=1)
    b = urn_study(*args, rounds=3, replications=5, seed=1)
    c = urn_study(*args, rounds=3, replications=5, seed=2)
    assert a == b and a != c


# --- the command ----------------------------------------------------------------------------------------

def test_cli_quadratic_json_contract_and_determinism(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('[[group]]\nname = "a"\nphi = [1.0]\nbeta = 1\n\n[[group]]\nname = "b"\nphi = [-1.0]\n'
                    "beta = 3\n", encoding="utf-8")
    args = ("simulate", "dynamics", "--quadratic", str(spec), "--learners", "2", "--seed", "3", "-f", "json")
    one, two = run(*args), run(*args)
    assert one.returncode == 0, one.stderr.decode()
    assert one.stdout == two.stdout
    data = json.loads(one.stdout)
    assert data["beta"] == {"a": 0.25, "b": 0.75}
    first = data["trajectory"][0]
    assert set(first["allocations"]) == {"a", "b"} and len(first["allocations"]["a"]) == 2
    assert sum(first["allocations"]["a"]) == pytest.approx(1)
    assert set(first["risks"]) == {"a", "b"}
    assert len(data["final"]["thetas"]) == 2 and len(data["final"]["thetas"][0]) == 1
    assert data["audit"] == [] and "no individuals" in data["audit_reason"]
    other = run(*args[:-4], "--seed", "4", "-f", "json")
    assert other.stdout != one.stdout


def test_cli_data_html_and_csv(tmp_path):
    base = ("simulate", "dynamics", "--people", APPLICANTS, "--features", "income,tenure_years,debt_ratio",
            "--target", "repaid", "-g", "race", "--rounds", "20", "--epsilon", "0.5", "--bootstrap", "50")
    html = run(*base, "-o", str(tmp_path / "r.html"))
    assert html.returncode == 0, html.stderr.decode()
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert text.count("<polyline") >= 5 and "<script" not in text and "Audit of the learners" in text
    csv = run(*base, "-f", "csv").stdout.decode().splitlines()
    assert csv[0] == "round,group,learner,quantity,value"
    alloc = [line.split(",") for line in csv[1:] if ",allocation," in line and line.startswith("1,A,")]
    assert sum(float(r[-1]) for r in alloc) == pytest.approx(1)


@pytest.mark.parametrize(("content", "needle"), [
    ("[[group]]\nname = 'a'\nbeta = 1\n", "phi"),
    ("[[group]]\nname = 'a'\nphi = [1.0]\nbeta = 1\nalphas = [0.5, -0.5]\n", "negative"),
    ("[[group]]\nname = 'a'\nphi = [1.0]\nbeta = 1\n[[group]]\nname = 'b'\nphi = [1.0, 2.0]\nbeta = 1\n",
     "entries"),
    ("[[group]\n", "not valid TOML"),
    ("[[group]]\nname = 'a'\nphi = [1.0]\nbeta = 1\nsigma = 2\n", "unknown key 'sigma'"),
])
def test_cli_bad_spec_is_one_line_exit_2(tmp_path, content, needle):
    spec = tmp_path / "spec.toml"
    spec.write_text(content, encoding="utf-8")
    proc = run("simulate", "dynamics", "--quadratic", str(spec))
    err = proc.stderr.decode().strip()
    assert proc.returncode == 2 and len(err.splitlines()) == 1 and needle in err and str(spec) in err, err


def test_cli_urn_from_data_uses_observed_rates():
    proc = run("simulate", "urn", "--people", str(ROOT / "sample_data" / "lender_a.csv"), "-g", "race",
               "--decision", "approved", "--adverse", "0", "--initial-bias", "0", "--rounds", "3",
               "--replications", "5", "-f", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    frame = pd.read_csv(ROOT / "sample_data" / "lender_a.csv")
    expected = (frame["approved"] == 0).groupby(frame["race"]).mean()
    assert data["initial_rate"] == pytest.approx(expected.to_dict())
    assert data["sizes"] == frame["race"].value_counts().to_dict()
    assert data["closed_form"]["expected_adverse_rate_round_1"] == pytest.approx(expected.to_dict())


def test_setting_is_a_plain_value():
    s = Setting(QuadraticRisks(np.zeros((1, 1)), np.ones((1, 1, 1)), np.ones(1)), ["g"], np.ones(1), None,
                "quadratic", "quadratic", [])
    assert dynamics(s, learners=1, rounds=2).audit_reason.startswith("a quadratic spec")


def test_explanation_names_the_model_that_ran():
    from monoculture.simulate.urn import explain

    assert "martingale" in explain("polya", "drawn")
    assert "locks each person in" in explain("threshold", "drawn")
    for rule in ("polya", "threshold"):
        assert "adverse-only" in explain(rule, "adverse") and "saturate" in explain(rule, "adverse")


def test_squared_loss_dynamics_do_not_depend_on_the_targets_scale(tmp_path):
    """An unscaled target (monthly surplus, hundreds) once put raw risks near 10^5 in (1 − ε)^risk: every group
    went to one learner after a round and the run said 'converged'. The target is standardised now, so the
    same people with the target in other units run the same dynamics."""
    frame = pd.read_csv(APPLICANTS)
    features = ["income", "tenure_years", "debt_ratio"]
    a = dynamics(data_setting(APPLICANTS, features, "monthly_surplus", ["race"]), rounds=30, seed=1)
    scaled = tmp_path / "scaled.csv"
    frame.assign(monthly_surplus=frame.monthly_surplus * 1000 + 7).to_csv(scaled, index=False)
    b = dynamics(data_setting(str(scaled), features, "monthly_surplus", ["race"]), rounds=30, seed=1)
    first = a.trajectory[0].allocations
    assert not all(max(row) > 1 - 1e-6 for row in first.values())  # no collapse after one round
    assert a.rounds_run > 2
    for ra, rb in zip(a.trajectory, b.trajectory, strict=True):
        for g, shares in ra.allocations.items():
            np.testing.assert_allclose(rb.allocations[g], shares, atol=1e-9)
    assert any("standardised target" in w for w in a.warnings)


def test_a_collapse_forced_by_huge_risks_is_not_called_convergence():
    huge = QuadraticRisks(phi=np.array([[30.0], [-30.0]]), cov=np.array([[[1.0]], [[1.0]]]),
                          sigma2=np.array([1.0, 1.0]))
    setting = Setting(risks=huge, groups=["a", "b"], beta=np.array([0.5, 0.5]), alphas=None, kind="quadratic",
                      loss="squared", features=[])
    r = dynamics(setting, learners=2, rounds=50, seed=3)
    assert r.converged is False
    assert any("not a converged state" in w for w in r.warnings)


def test_the_setting_request_resolves_auto_and_refuses_mixed_sources():
    from monoculture.errors import UsageError
    from monoculture.simulate import SettingRequest, setting_for

    assert SettingRequest().resolved_response == "refit"
    assert SettingRequest(inputs=["a.csv"]).resolved_response == "frozen"
    assert SettingRequest(inputs=["a.csv"], menus={"x": ["a"]}).resolved_response == "menu"
    never = lambda: pytest.fail("no audit specification without prediction files")  # noqa: E731
    for request, message in [
        (SettingRequest(response="sideways"), "must be one of"),
        (SettingRequest(response="frozen", inputs=["a.csv"], target="y"), "not --quadratic"),
        (SettingRequest(response="refit", inputs=["a.csv"]), "go with --response frozen"),
        (SettingRequest(), "either --quadratic"),
        (SettingRequest(people="p.csv"), "--target"),
    ]:
        with pytest.raises(UsageError, match=message):
            setting_for(request, never)
