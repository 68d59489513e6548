"""Beyond independence (metrics.md §10) and panels and recourse (§12), against independent computations:
girth's Rasch fits, numerical integration, enumeration of patterns, brute force over rows, and data
simulated from the model itself."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from monoculture.count.table import Counts
from monoculture.measure.estimate import Estimate, scope_result
from monoculture.measure.inference import bootstrap_weights
from monoculture.measure.metrics import panels, rasch
from monoculture.measure.metrics.rasch import (
    RaschFit,
    rasch_expected_systemic_failure,
    rasch_failure_count_histogram,
)
from monoculture.measure.result import ScopeResult
from monoculture.spec import InferenceOptions
from profiles import examples


def _rasch_rows(rng: np.random.Generator, n: int, beta: np.ndarray, sigma: float,
                shared: tuple[int, int] | None = None) -> np.ndarray:
    """Failures simulated from the marginal Rasch model; `shared`: a pair that also fails together a tenth
    of the people, whatever their difficulty (a planted common component)."""
    d = rng.normal(0, sigma, n)
    fail = rng.random((n, len(beta))) < special.expit(beta[None, :] + d[:, None])
    if shared is not None:
        hit = rng.random(n) < 0.1
        fail[hit, shared[0]] = fail[hit, shared[1]] = True
    return fail


def _table(fail: np.ndarray, present: np.ndarray | None = None) -> Counts:
    present = np.ones_like(fail) if present is None else present
    both = np.concatenate([fail, present], axis=1)
    keys, counts = np.unique(both, axis=0, return_counts=True)
    k = fail.shape[1]
    return Counts(keys[:, :k], keys[:, k:], counts.astype(float))


def test_the_fit_is_girths_one_parameter_logistic_fit():
    """girth's 1PL (common discrimination a, item difficulties b, ability ~ N(0, 1)) is this model with
    σ = a and β_i = −a·b_i (a failure is girth's "correct", the latent trait is difficulty)."""
    girth = pytest.importorskip("girth", reason="girth (the test extra) is the oracle")
    rng = np.random.default_rng(1)
    for k, sigma in ((4, 0.8), (6, 1.3), (8, 2.0)):
        beta = np.linspace(-1.5, 0.5, k)
        fail = _rasch_rows(rng, 3000, beta, sigma)
        fit = RaschFit.of(_table(fail))
        oracle = girth.onepl_mml(fail.T.astype(int))
        a = float(oracle["Discrimination"])
        theirs = np.append(-a * oracle["Difficulty"], np.log(a))
        np.testing.assert_allclose(fit.sigma, a, atol=2e-3)
        np.testing.assert_allclose(fit.beta, theirs[:-1], atol=1e-2)  # girth alternates item and scale steps
        # ... and where they differ, ours is the higher marginal likelihood (the same integral, 48 nodes).
        c = _table(fail)
        assert fit.log_likelihood >= rasch._likelihood(c, c.weights, theirs)[0] - 1e-9


@pytest.mark.parametrize("outer", [False, True])
def test_the_fits_gradient_is_the_sum_of_row_scores_and_the_likelihoods_slope(outer):
    """The fit's gradient, summed over rows before the products with π, against the weighted row scores
    (`_row_scores`, an (R, k + 1) matrix) and against central differences of the likelihood; its likelihood
    against the product of the rows' failures and successes with log π and log(1 − π) taken apart."""
    rng = np.random.default_rng(7)
    fail = _rasch_rows(rng, 1500, np.linspace(-1.2, 0.4, 6), 1.1)
    present = (rng.random(fail.shape) < 0.8) if outer else None
    c = _table(fail, present)
    theta = np.append(np.linspace(-1.0, 0.2, 6), np.log(0.9))
    ll, grad = rasch._likelihood(c, c.weights, theta)
    np.testing.assert_allclose(grad, c.weights @ rasch._row_scores(c, theta), rtol=1e-10, atol=1e-8)
    x, nodes = rasch._nodes()
    z = theta[:-1][None, :] + np.exp(theta[-1]) * x[:, None]
    log_f = c.failed @ np.log(special.expit(z)).T + c.succeeded @ np.log(special.expit(-z)).T  # (R, Q)
    np.testing.assert_allclose(ll, c.weights @ np.log(np.exp(log_f) @ nodes), rtol=1e-12)
    step = 1e-6
    def ll_at(t: np.ndarray) -> float:
        return rasch._likelihood(c, c.weights, t)[0]
    slope = [(ll_at(theta + step * e) - ll_at(theta - step * e)) / (2 * step) for e in np.eye(len(theta))]
    np.testing.assert_allclose(grad, slope, rtol=1e-5, atol=1e-4)


def test_expectations_under_the_fit_are_the_integrals_and_the_pattern_sums():
    """S_rasch is ∫ Π π_i(d) φ_σ(d) dd (scipy.integrate.quad); the histogram is the sum, over every
    failure pattern with m failures, of its probability under the model (enumerated)."""
    rng = np.random.default_rng(3)
    beta, sigma = np.array([-1.0, -0.3, 0.2, -2.0]), 1.1
    c = _table(_rasch_rows(rng, 2000, beta, sigma))
    fit = RaschFit.of(c)
    b, s = fit.beta, fit.sigma

    def integral(pattern: tuple[int, ...]) -> float:
        def f(d: float) -> float:
            pi = special.expit(b + d)
            return float(np.prod(np.where(pattern, pi, 1 - pi))) * stats.norm.pdf(d, 0, s)
        return integrate.quad(f, -12 * s, 12 * s, limit=200)[0]

    np.testing.assert_allclose(rasch_expected_systemic_failure(c, fit.theta), integral((1, 1, 1, 1)), rtol=1e-7)
    want = np.zeros(5)
    for pattern in itertools.product((0, 1), repeat=4):
        want[sum(pattern)] += integral(pattern)
    np.testing.assert_allclose(rasch_failure_count_histogram(c, fit.theta), want, rtol=1e-6, atol=1e-12)


def test_under_the_outer_join_each_person_counts_the_decision_makers_that_saw_them():
    rng = np.random.default_rng(4)
    fail = _rasch_rows(rng, 3000, np.array([-1.0, -0.5, 0.0, 0.5]), 1.0)
    present = rng.random(fail.shape) < 0.7
    present[:, :2] = True
    c = _table(fail & present, present)
    fit = RaschFit.of(c)
    x, w = special.roots_hermitenorm(200)
    pi = special.expit(fit.beta[None, :] + fit.sigma * x[:, None])  # (nodes, k)
    per_row = [(w / w.sum()) @ np.prod(np.where(row, pi, 1.0), axis=1) for row in present]
    np.testing.assert_allclose(rasch_expected_systemic_failure(c, fit.theta), np.mean(per_row), rtol=1e-8)


def test_data_from_the_model_is_not_homogenized_beyond_difficulty():
    """Independence calls Rasch data homogenized; beyond difficulty, H and every pair's lift are near 1."""
    rng = np.random.default_rng(5)
    r = _audit(_rasch_rows(rng, 20000, np.array([-1.2, -0.8, -0.6, -1.0, -0.4]), 1.5))
    assert r.homogenization.value > 5
    assert 0.9 < r.rasch.homogenization.value < 1.1
    assert r.rasch.homogenization.ci[0] <= 1 <= r.rasch.homogenization.ci[1]
    lifts = [p.local_dependence_lift.value for p in r.pairwise]
    assert all(0.95 < v < 1.05 for v in lifts), lifts


def test_a_component_two_decision_makers_share_shows_as_their_lift():
    rng = np.random.default_rng(8)
    r = _audit(_rasch_rows(rng, 20000, np.array([-1.2, -0.8, -0.6, -1.0, -0.4]), 1.5, shared=(1, 3)))
    by_pair = {(p.a, p.b): p.local_dependence_lift for p in r.pairwise}
    planted = by_pair[("dm1", "dm3")]
    assert planted.value == max(m.value for m in by_pair.values()) and planted.ci[0] > 1.05
    assert all(m.value < 1.05 for pair, m in by_pair.items() if pair != ("dm1", "dm3"))


def test_a_component_everyone_shares_shows_beyond_difficulty():
    """A tenth of the people failed by all whatever their difficulty (one shared model): H beyond
    difficulty clearly above 1."""
    rng = np.random.default_rng(9)
    fail = _rasch_rows(rng, 20000, np.array([-1.5, -1.0, -1.2, -0.8, -1.1]), 0.8)
    fail[rng.random(len(fail)) < 0.1] = True
    assert _audit(fail).rasch.homogenization.ci[0] > 1.2


def test_pair_probabilities_given_the_raw_score_are_the_enumerated_ones():
    from monoculture.measure.metrics.local_dependence import pair_given_score

    beta = np.array([0.3, -0.5, 1.0, 0.0, -1.4])
    got = pair_given_score(beta)
    for m in range(len(beta) + 1):
        patterns = [p for p in itertools.product((0, 1), repeat=len(beta)) if sum(p) == m]
        weights = np.array([np.exp(np.dot(p, beta)) for p in patterns])
        for a, b in itertools.permutations(range(len(beta)), 2):
            want = sum(w for p, w in zip(patterns, weights, strict=True) if p[a] and p[b]) / weights.sum()
            assert abs(got[m, a, b] - want) < 1e-12


def test_conditional_estimates_are_girths():
    girth = pytest.importorskip("girth", reason="girth (the test extra) is the oracle")
    from monoculture.measure.metrics.local_dependence import ConditionalFit

    rng = np.random.default_rng(10)
    fail = _rasch_rows(rng, 3000, np.array([-1.0, -0.4, 0.2, -0.7, 0.5, 0.0]), 1.2)
    ours = ConditionalFit.of(_table(fail)).beta
    theirs = -np.asarray(girth.rasch_conditional(fail.T.astype(int))["Difficulty"])
    np.testing.assert_allclose(ours, theirs - theirs.mean(), atol=2e-3)


def _audit(fail: np.ndarray, bootstrap: int = 200) -> ScopeResult:
    """The overall result of the failure matrix, with `bootstrap` replicates."""
    c = _table(fail)
    options = InferenceOptions(bootstrap=bootstrap, permutations=0)
    est = Estimate.of(c, options, bootstrap_weights(c, options, np.random.default_rng(0)), with_pairs=True)
    return scope_result(est, [f"dm{i}" for i in range(fail.shape[1])], with_pairs=True)


@pytest.mark.parametrize("fail, reason", [
    (np.array([[1, 0], [0, 1], [1, 1], [0, 0]], bool), "at least 3 decision-makers"),
    (np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0]], bool), "never or always fails"),
])
def test_the_model_is_undefined_with_a_reason_where_it_cannot_be_fitted(fail, reason):
    r = _audit(fail, bootstrap=0)
    assert r.rasch.homogenization.value is None and reason in r.rasch.homogenization.reason


@settings(max_examples=examples(30), deadline=None)
@given(st.integers(0, 2**32 - 1), st.permutations(range(4)))
def test_reordering_decision_makers_changes_nothing_beyond_difficulty(seed, order):
    rng = np.random.default_rng(seed)
    fail = _rasch_rows(rng, 400, np.array([-1.0, -0.2, 0.3, -0.6]), 1.0)
    if (fail.all(axis=0) | ~fail.any(axis=0)).any():
        return
    a, b = RaschFit.of(_table(fail)), RaschFit.of(_table(fail[:, list(order)]))
    np.testing.assert_allclose(b.beta, a.beta[list(order)], atol=1e-5)
    np.testing.assert_allclose(b.sigma, a.sigma, rtol=1e-5)


def test_panels_and_recourse_by_brute_force_over_rows():
    rng = np.random.default_rng(6)
    fail = _rasch_rows(rng, 500, np.array([-0.5, 0.0, -1.0, 0.3]), 1.0)
    c = Counts(fail, np.ones_like(fail), np.ones(len(fail)))
    k = fail.shape[1]
    m = fail.sum(axis=1)
    np.testing.assert_allclose(panels.harm_at_least(c), [(m >= r).mean() for r in range(k + 1)])
    e = fail.mean(axis=0)
    pb = stats.poisson_binom.pmf(np.arange(k + 1), e)
    np.testing.assert_allclose(panels.expected_harm_at_least(c), [pb[r:].sum() for r in range(k + 1)])
    s = fail.all(axis=1)
    for i in range(k):
        failed = fail[:, i]
        rescued = (failed & ~np.delete(fail, i, axis=1).all(axis=1)).sum() / failed.sum()
        np.testing.assert_allclose(panels.recourse(c)[i], rescued)
        np.testing.assert_allclose(panels.expected_recourse(c)[i], 1 - np.prod(np.delete(e, i)))
    assert np.isclose(panels.recourse(c)[0], 1 - s.mean() / e[0])
    phi = np.corrcoef(fail.T.astype(float))[np.triu_indices(k, 1)].mean()
    np.testing.assert_allclose(panels.effective_decision_makers(c), k / (1 + (k - 1) * phi))


def test_ten_identical_decision_makers_are_one_opinion_and_independent_ones_are_ten():
    rng = np.random.default_rng(7)
    one = np.repeat(rng.random((3000, 1)) < 0.3, 10, axis=1)
    assert np.isclose(panels.effective_decision_makers(Counts(one, np.ones_like(one), np.ones(3000))), 1.0)
    many = rng.random((20000, 10)) < 0.3
    assert abs(float(panels.effective_decision_makers(Counts(many, np.ones_like(many), np.ones(20000)))) - 10) < 0.5


@pytest.mark.slow
def test_the_interval_of_h_beyond_difficulty_covers_one_at_the_nominal_rate():
    """Data from the model: the population's H beyond difficulty is 1. The 95% interval (one Newton step
    per replicate) must cover it about 95% of the time."""
    rng = np.random.default_rng(2026)
    options = InferenceOptions(bootstrap=400)
    beta = np.array([-0.6, -0.2, -0.9, 0.1])
    covered, trials = 0, 200
    for _ in range(trials):
        c = _table(_rasch_rows(rng, 2000, beta, 1.2))
        est = Estimate.of(c, options, bootstrap_weights(c, options, rng), with_pairs=False)
        ci = est.interval("rasch_homogenization")
        covered += ci.low <= 1.0 <= ci.high
    assert 0.92 * trials <= covered <= 0.98 * trials, covered / trials


def test_h_within_strata_is_s_over_independence_within_each_stratum_from_rows(tmp_path):
    """--strata: S_strat = Σ_s w_s Π_i e_(s,i), computed here from the rows with pandas."""
    import pandas as pd

    import monoculture

    root = __import__("pathlib").Path(__file__).resolve().parents[2] / "sample_data"
    files = [str(root / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet")]
    r = monoculture.audit(files, id_column="applicant_id", decision="approved", label="repaid",
                          people=str(root / "people.csv"), strata="race",
                          inference=InferenceOptions(bootstrap=50, permutations=0))
    frames = [pd.read_parquet(f) if f.endswith(".parquet") else pd.read_csv(f) for f in files]
    wide = frames[0][["applicant_id", "approved", "repaid"]].rename(columns={"approved": "d0"})
    for i, f in enumerate(frames[1:], 1):
        wide = wide.merge(f[["applicant_id", "approved"]].rename(columns={"approved": f"d{i}"}), on="applicant_id")
    wide = wide.merge(pd.read_csv(root / "people.csv")[["applicant_id", "race"]], on="applicant_id")
    fail = pd.DataFrame({i: wide[f"d{i}"] != wide["repaid"] for i in range(3)})
    s = fail.all(axis=1).mean()
    s_strat = sum(len(g) / len(fail) * fail.loc[g.index].mean().prod() for _, g in wide.groupby("race"))
    assert r.stratified.attribute == "race" and r.stratified.strata == wide["race"].nunique()
    assert np.isclose(r.stratified.homogenization.value, s / s_strat)
    assert np.isclose(r.stratified.expected_systemic_failure.value, s_strat)
    assert r.stratified.homogenization.ci is not None
    assert {g.attribute for g in r.groups} == {"race"}  # the strata are reported as groups too


def test_the_terminal_shows_harm_by_rule_and_the_strongest_lifts():
    import monoculture
    from monoculture.report.terminal import render_terminal

    root = __import__("pathlib").Path(__file__).resolve().parents[2] / "sample_data"
    files = [str(root / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet")]
    r = monoculture.audit(files, id_column="applicant_id", decision="approved", label="repaid",
                          inference=InferenceOptions(bootstrap=50, permutations=0))
    text = render_terminal(r, width=120)
    majority = next(h for h in r.overall.harm_by_rule if h.rule == "majority")
    assert f"{100 * majority.observed.value:.1f}%" in text.split("majority panel")[1].splitlines()[0]
    top = max(r.overall.pairwise, key=lambda p: p.local_dependence_lift.value)
    assert "Shared beyond difficulty" in text and f"{top.local_dependence_lift.value:.3g}" in text


def test_a_replicates_one_step_is_close_to_refitting_it():
    """Bootstrap replicates move β by one Newton step (conditional model: the exact information); on
    replicate weightings it lands within a fifth of β's bootstrap spread of a full refit."""
    from monoculture.measure.metrics.local_dependence import ConditionalFit

    rng = np.random.default_rng(11)
    c = _table(_rasch_rows(rng, 3000, np.array([-1.2, -0.8, -0.6, -1.0, -0.4]), 1.5, shared=(1, 3)))
    fit = ConditionalFit.of(c)
    weights = rng.multinomial(int(c.weights.sum()), c.weights / c.weights.sum(), size=20).astype(float)
    refit = np.array([ConditionalFit.of(Counts(c.fail, c.present, w)).beta for w in weights])
    assert np.abs(fit.beta_for(weights) - refit).max() < 0.2 * refit.std(axis=0).min()
