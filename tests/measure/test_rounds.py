"""Change over rounds: persistence of systemic failure, and where a new version's improvements land."""

from __future__ import annotations

import pytest

import monoculture
from monoculture.spec import InferenceOptions


def _file(d, name, failed: set[int], n: int = 10) -> str:
    p = d / f"{name}.csv"
    p.write_text("id,decision,label\n" + "".join(f"{j},{0 if j in failed else 1},1\n" for j in range(n)))
    return str(p)


def test_two_version_ecosystem_by_hand(tmp_path):
    # v1: a fails 0-3, b fails 0, 1, 4, c fails 0, 1, 5. v2: a fixes 2 and 3 (failed by nobody else)
    # but not 0 and 1 (failed by both others). b and c are unchanged.
    files = [f"a@v1={_file(tmp_path, 'a1', {0, 1, 2, 3})}", f"b@v1={_file(tmp_path, 'b1', {0, 1, 4})}",
             f"c@v1={_file(tmp_path, 'c1', {0, 1, 5})}", f"a@v2={_file(tmp_path, 'a2', {0, 1})}",
             f"b@v2={_file(tmp_path, 'b2', {0, 1, 4})}", f"c@v2={_file(tmp_path, 'c2', {0, 1, 5})}"]
    r = monoculture.audit(files, label="label", inference=InferenceOptions(bootstrap=50, permutations=0))
    rounds = r.rounds
    assert rounds.rounds == ["v1", "v2"] and rounds.decision_makers == ["a", "b", "c"]
    assert rounds.systemic_failure_by_round["v1"].value == 0.2
    assert rounds.failed_in_every_round.value == pytest.approx(0.2)
    assert rounds.expected_failed_in_every_round.value == pytest.approx(0.04)
    assert [b.observed.value for b in rounds.rounds_failed_histogram] == pytest.approx([0.8, 0.0, 0.2])
    assert [i.decision_maker for i in rounds.improvements] == ["a", "b", "c"]
    imp = rounds.improvements[0]
    assert rounds.improvements[1].improved_share.value == 0.0  # b's new version changed nothing
    assert (imp.decision_maker, imp.from_round, imp.to_round, imp.failed_before) == ("a", "v1", "v2", 4)
    assert imp.improved_share.value == 0.5
    by = {b.others_failing: b for b in imp.buckets}
    assert (by[0].n, by[0].improved_share.value) == (2, 1.0)
    assert by[1].n == 0 and by[1].improved_share.value is None
    assert (by[2].n, by[2].improved_share.value) == (2, 0.0)
    assert by[2].expected_share.value == 0.5


def test_unversioned_audit_has_no_rounds(tmp_path):
    files = [_file(tmp_path, "a", {0, 1}), _file(tmp_path, "b", {1, 2})]
    assert monoculture.audit(files, label="label").rounds is None


def test_round_column_in_a_stacked_file(tmp_path):
    rows = []
    for rnd, failed in (("2024", {"a": {0, 1, 2, 3}, "b": {0, 1, 4}}), ("2025", {"a": {0, 1}, "b": {0, 1, 4}})):
        for dm, f in failed.items():
            rows += [f"{j},{dm},{rnd},{0 if j in f else 1},1" for j in range(10)]
    p = tmp_path / "stacked.csv"
    p.write_text("id,model,year,decision,label\n" + "\n".join(rows) + "\n")
    r = monoculture.audit([str(p)], layout="stacked", decision_maker_column="model", round_column="year",
                          label="label", inference=InferenceOptions(bootstrap=0, permutations=0))
    assert [d.name for d in r.decision_makers] == ["a@2024", "a@2025", "b@2024", "b@2025"]
    assert r.rounds.rounds == ["2024", "2025"]
    a = r.rounds.improvements[0]
    assert (a.failed_before, a.improved_share.value) == (4, 0.5)


def test_small_improvement_buckets_are_suppressed_with_their_complement(tmp_path):
    files = [f"a@v1={_file(tmp_path, 'a1', {0, 1, 2, 3})}", f"b@v1={_file(tmp_path, 'b1', {0, 1, 4})}",
             f"c@v1={_file(tmp_path, 'c1', {0, 5})}", f"a@v2={_file(tmp_path, 'a2', {0, 1})}",
             f"b@v2={_file(tmp_path, 'b2', {0, 1, 4})}", f"c@v2={_file(tmp_path, 'c2', {0, 5})}"]
    r = monoculture.audit(files, label="label", suppress_below=2,
                          inference=InferenceOptions(bootstrap=0, permutations=0))
    # a's buckets: 0 others (2, 3): n = 2; 1 other (1): n = 1; 2 others (0): n = 1 → all but the first hidden.
    ns = [b.n for b in r.rounds.improvements[0].buckets]
    assert ns == [2, None, None]


def test_rounds_follow_their_natural_order_not_the_files(tmp_path):
    """A dump sorted newest first once reported 'v10 → v2' improvements. Rounds now sort naturally (v2 before
    v10), or as the inputs give them, or as named; and failure after failure is counted per step."""
    # Round v2: a, b both fail 0-3. Round v10: both fail 0, 1 (0 and 1 fail again; 2 and 3 are served).
    files = [f"a@v10={_file(tmp_path, 'a10', {0, 1})}", f"b@v10={_file(tmp_path, 'b10', {0, 1})}",
             f"a@v2={_file(tmp_path, 'a2', {0, 1, 2, 3})}", f"b@v2={_file(tmp_path, 'b2', {0, 1, 2, 3})}"]
    fast = InferenceOptions(bootstrap=0, permutations=0)
    r = monoculture.audit(files, label="label", inference=fast)
    assert r.rounds.rounds == ["v2", "v10"]
    (step,) = r.rounds.transitions
    assert (step.from_round, step.to_round, step.failed_before) == ("v2", "v10", 4)
    assert step.failed_again.value == pytest.approx(2 / 4)  # 0 and 1 of 0-3
    assert step.independent.value == pytest.approx(0.2)  # v10's systemic failure rate
    imp = r.rounds.improvements[0]
    assert (imp.from_round, imp.to_round, imp.improved_share.value) == ("v2", "v10", 0.5)
    assert monoculture.audit(files, label="label", inference=fast, round_order="appearance").rounds.rounds == [
        "v10", "v2"]
    assert monoculture.audit(files, label="label", inference=fast, round_order="v10,v2").rounds.rounds == [
        "v10", "v2"]
    with pytest.raises(monoculture.UsageError, match="name each once"):
        monoculture.audit(files, label="label", inference=fast, round_order="v1,v2")


def _three_rounds(tmp_path, failed_by_round: list[set[int]], n: int = 10) -> list[str]:
    """Two lenders per round, each failing the round's set: systemic failure = that set."""
    return [f"{dm}@v{t + 1}={_file(tmp_path, f'{dm}{t}', f, n)}" for t, f in enumerate(failed_by_round)
            for dm in ("a", "b")]


def test_overdispersion_by_hand_when_the_same_people_are_failed_every_round(tmp_path):
    # People 0-2 are failed by everyone in all three rounds, the others never: X is 3 or 0.
    files = _three_rounds(tmp_path, [{0, 1, 2}] * 3)
    r = monoculture.audit(files, label="label", inference=InferenceOptions(bootstrap=0, permutations=0))
    first = r.rounds.overdispersion[0]
    assert first.series == "failed by every decision-maker" and first.rounds == 3
    assert first.mean_rounds_failed.value == pytest.approx(0.9)
    # Var(X) = 9 · 0.3 · 0.7 = 1.89 against Σ s_t(1 − s_t) = 3 · 0.21 = 0.63.
    assert first.dispersion_ratio.value == pytest.approx(3.0)
    assert first.rho.value > 0.99 and first.rho.p_value < 0.01
    assert [o.series for o in r.rounds.overdispersion] == ["failed by every decision-maker", "a", "b"]


def test_overdispersion_is_undefined_when_nothing_varies(tmp_path):
    files = _three_rounds(tmp_path, [set(), set(), set()])
    r = monoculture.audit(files, label="label", inference=InferenceOptions(bootstrap=0, permutations=0))
    first = r.rounds.overdispersion[0]
    assert first.rho.value is None and "nobody was failed" in first.rho.reason
    assert first.mean_rounds_failed.value == 0.0


def test_overdispersion_when_failures_rotate_is_below_one(tmp_path):
    # Each round fails a different third of the people: nobody twice, less spread than independence.
    files = _three_rounds(tmp_path, [{0, 1, 2}, {3, 4, 5}, {6, 7, 8}])
    r = monoculture.audit(files, label="label", inference=InferenceOptions(bootstrap=0, permutations=0))
    first = r.rounds.overdispersion[0]
    # X is 1 for nine people, 0 for one: Var = 0.09 against 3 · 0.3 · 0.7 = 0.63.
    assert first.dispersion_ratio.value == pytest.approx(0.09 / 0.63)
    assert first.rho.value == 0.0 and first.rho.p_value == 1.0 and first.beta_a is None


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "csv"])
def test_persistence_is_in_every_report(tmp_path, fmt):
    from monoculture.report import Format, render

    files = _three_rounds(tmp_path, [{0, 1, 2}] * 3)
    r = monoculture.audit(files, label="label", inference=InferenceOptions(bootstrap=0, permutations=0))
    text = " ".join(render(r, Format(fmt)).split())
    if fmt == "csv":
        assert "rounds,,,dispersion_ratio,,,3.0" in text.replace(" ", "")
    else:
        assert "Persistence" in text and "3× that of independent rounds" in text
        assert "failed again" in text
