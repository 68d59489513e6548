"""`multiplicity()`: how arbitrary is one person's outcome among about equally good models, and is there an
equally good model that treats a group better? Same reading and linking as `audit()` (metrics.md §6–§7)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import __version__
from ..count.table import PatternTable
from ..errors import UsageError
from ..link.load import load_and_link
from ..measure.estimate import attach
from ..measure.groups import group_members
from ..measure.inference import bootstrap_means, intervals, wilson
from ..measure.metrics import multiplicity as mm
from ..measure.metrics._base import divide
from ..measure.result import (
    SCHEMA_VERSION,
    CandidateResult,
    LDACandidate,
    LDAResult,
    Metric,
    MultiplicityResult,
    MultiplicityScope,
    SheetRow,
)
from ..spec import InferenceOptions
from .spec import MultiplicitySpec

QUANTILES = {"median": 0.5, "p90": 0.9, "p99": 0.99, "max": 1.0}


def _ci_metric(value: float, reps: np.ndarray | None, alpha: float, reason: str) -> Metric:
    m = Metric.of(value, reason)
    if m.defined and reps is not None:
        lo, hi, undefined, same = intervals(np.asarray(value), reps, alpha)
        if not (np.isnan(lo) or np.isnan(hi)):
            m.ci = (m.value, m.value) if same else (float(lo), float(hi))
            m.ci_method = "bootstrap-percentile"
            if undefined > 0:
                m.flags.append(f"{100 * float(undefined):.1f}% of bootstrap replicates undefined and left out")
    return m


def multiplicity(inputs: Sequence[str] | MultiplicitySpec = (), *,
                 on_stage: Callable[[str], None] = lambda _name: None, **options: Any) -> MultiplicityResult:
    """Predictive multiplicity and less discriminatory alternatives over candidate models' predictions.

    Give a `MultiplicitySpec`, or the inputs and keywords `MultiplicitySpec.of` takes (they mirror
    ``monoculture multiplicity --help``). Candidates must decide on the same people (inner join). Without
    labels every candidate is in the set and accuracy-based parts are undefined. `on_stage` hears each stage's
    name as it starts (the CLI shows them on stderr).
    """
    spec = inputs if isinstance(inputs, MultiplicitySpec) else MultiplicitySpec.of(inputs, **options)
    o, cols, inference = spec.options, spec.asked, spec.inference
    epsilon, baseline, arbitrary_threshold = o.epsilon, o.baseline, o.arbitrary_threshold
    utility, disparity, split, select_on, report_on = o.utility, o.disparity, o.split, o.select_on, o.report_on
    intersect, label, favorable = o.intersect, cols.label, spec.rule.favorable
    linked, input_results = load_and_link(spec, on_stage=on_stage)
    on_stage("measuring multiplicity")
    names = linked.names
    D = linked.decisions
    assert D is not None
    n, m = D.shape
    fav_token = linked.rule.favorable or favorable or "1"
    fav_code = linked.tokens.index(fav_token) if fav_token in linked.tokens else -2
    # A score rule leaves each decision as 1 (favourable) or 0; else decisions are the vocabulary's codes.
    favourable = (D == 1 if spec.rule.uses_scores else D == fav_code).astype(float)
    correct = (~linked.fail).astype(float) if label else None
    error = linked.fail.mean(axis=0) if label else np.zeros(m)
    base = None
    if baseline is not None:
        if baseline not in names:
            raise UsageError(f"{{multiplicity.baseline}} '{baseline}' is not among the candidates ({', '.join(names)})")
        base = names.index(baseline)
    in_set, base = mm.rashomon_set(error, epsilon if label else np.inf, base)
    members = np.flatnonzero(in_set)
    base_in = int(np.flatnonzero(members == base)[0])
    DR = D[:, members]
    SR = linked.scores[:, members] if linked.scores is not None else None
    rng = np.random.default_rng(inference.seed)
    table = PatternTable.build(linked)
    cell_of_row = linked.cell

    per_all = _per_person(DR, SR, base_in, arbitrary_threshold)  # once: capacity is an iteration per person

    def scope(attribute: str, group: str, rows: np.ndarray, total_arbitrary: float) -> MultiplicityScope:
        x = per_all[rows]
        n_g = int(rows.sum())
        empty = "no individuals in this group"
        if n_g == 0:
            blank = Metric(None, empty)
            return MultiplicityScope(attribute, group, 0, blank, blank, blank, {}, [], blank, blank, blank,
                                     blank, blank)
        means = x.mean(axis=0)
        reps = bootstrap_means(x, inference.bootstrap, rng) if inference.bootstrap > 0 else None
        k_flip = DR.shape[1]
        amb = Metric(float(means[0]))
        attach(amb, wilson(means[0] * n_g, n_g, inference.alpha) if inference.bootstrap > 0 else None)
        disc = _ci_metric(float(means[1:1 + k_flip].max()),
                          reps[:, 1:1 + k_flip].max(axis=1) if reps is not None else None, inference.alpha, "")
        j = 1 + k_flip
        dis = _ci_metric(float(means[j]), reps[:, j] if reps is not None else None, inference.alpha,
                         "fewer than two models in the set")
        high = Metric(float(means[j + 1]))
        attach(high, wilson(means[j + 1] * n_g, n_g, inference.alpha) if inference.bootstrap > 0 else None)
        share_of = (Metric(means[j + 1] * n_g / total_arbitrary) if total_arbitrary > 0
                    else Metric(None, "nobody is highly arbitrary"))
        no_scores = "no --score or --probabilities columns given"
        score_metrics = [Metric(None, no_scores)] * 3
        if SR is not None:
            reasons = ["fewer than two models in the set"] * 3
            if SR.ndim == 3:  # class probabilities: the range and sd are of one score (two classes)
                reasons[:2] = ["the range and standard deviation are of a single score: give --score (two "
                               "classes)"] * 2
            score_metrics = [_ci_metric(float(means[j + 2 + t]), reps[:, j + 2 + t] if reps is not None else None,
                                        inference.alpha, reasons[t]) for t in range(3)]
        d_values = x[:, j]
        quant = {k: float(np.quantile(d_values, q)) for k, q in QUANTILES.items()} if DR.shape[1] > 1 else {}
        hist = (np.histogram(d_values, bins=10, range=(0, 1))[0] / n_g).tolist() if DR.shape[1] > 1 else []
        return MultiplicityScope(attribute, group, n_g, amb, disc, dis, quant, hist, high, share_of, *score_metrics)

    total_arbitrary = float(per_all[:, 2 + DR.shape[1]].sum())
    overall = scope("", "", np.ones(n, dtype=bool), total_arbitrary)
    group_scopes = []
    for attr, members_ in group_members(table, intersect):
        if split is not None and split in attr:
            continue
        for group, row_mask in members_:
            cells = np.unique(table.row_cell[row_mask])
            group_scopes.append(scope(attr, group, np.isin(cell_of_row, cells), total_arbitrary))

    on_stage("searching for less discriminatory alternatives")
    sheet, spread = _sheet(table, intersect, names, in_set, correct, favourable, cell_of_row)
    lda_attr = next((a for a in table.attributes if a != split), None)
    lda_data = LdaData(table, names, base, correct, favourable, D, cell_of_row, lda_attr,
                       None if correct is None else (linked.labels == fav_code).astype(float))
    search = LdaSearch(o.lda_tolerance, utility, disparity, o.fpr_weight, inference, rng)
    lda = _lda(lda_data, search) if split is None else _split_lda(lda_data, search, split, select_on, report_on)
    notes = list(linked.warnings)
    if not label:
        notes.append("no --label: every candidate is in the set and accuracy-based measures are undefined")
    if len(members) < 2:
        notes.append("the Rashomon set has one member: multiplicity within it is zero by construction")
    asked = spec.asked
    options = {"id": asked.id, "decision": asked.decision, "label": label, "score": asked.score,
               "probabilities": list(asked.probabilities),
               "groups": list(asked.groups), "intersect": intersect, "people": spec.inputs.people,
               "layout": spec.inputs.layout, "favorable": fav_token,
               "epsilon": epsilon, "baseline": names[base], "arbitrary_threshold": arbitrary_threshold,
               "utility": utility, "lambda": o.fpr_weight if utility == "tpr-fpr" else None,
               "lda_epsilon": o.lda_tolerance, "disparity": disparity, "split": split, "select_on": select_on,
               "report_on": report_on,
               "set_rule": "loss <= baseline loss + epsilon (baseline in the set)",
               "disagreement": "share of ordered pairs of distinct set members that disagree",
               "score_std": "ddof = 1",
               "inference": {"bootstrap": inference.bootstrap, "seed": inference.seed, "alpha": inference.alpha}}
    return MultiplicityResult(
        schema_version=SCHEMA_VERSION, tool_version=__version__, kind="multiplicity", rule=linked.rule.description,
        options=options, inputs=input_results, baseline=names[base], epsilon=epsilon,
        rashomon_set=[CandidateResult(nm, Metric(float(error[i])) if label else Metric(None, "no labels"),
                                      bool(in_set[i])) for i, nm in enumerate(names)],
        ambiguity=overall.ambiguity, discrepancy=overall.discrepancy, mean_disagreement=overall.mean_disagreement,
        mean_viable_range=overall.mean_viable_range, mean_score_std=overall.mean_score_std,
        mean_rashomon_capacity=overall.mean_rashomon_capacity, overall=overall, groups=group_scopes,
        sheet=sheet, sheet_spread=spread, lda=lda, coverage=linked.coverage,
        warnings=[*notes, "any/max measures over the supplied candidates are lower bounds on multiplicity "
                  "over all equally good models"],
    )


def _per_person(DR: np.ndarray, SR: np.ndarray | None, base: int, threshold: float) -> np.ndarray:
    """Columns: ambiguity, flips per member, disagreement, highly arbitrary, [range, std, capacity]."""
    dis = mm.disagreement(DR)
    cols = [mm.ambiguity(DR, base)[:, None], mm.flips_from_baseline(DR, base), np.nan_to_num(dis)[:, None],
            (np.nan_to_num(dis) >= threshold).astype(float)[:, None]]
    if SR is not None and SR.ndim == 3:  # (N, members, classes): Blahut–Arimoto per person
        blank = np.full((len(DR), 1), np.nan)
        cols += [blank, blank, mm.rashomon_capacity(SR)[:, None]]
    elif SR is not None:
        cols += [mm.viable_prediction_range(SR)[:, None], np.nan_to_num(mm.score_std(SR))[:, None],
                 mm.binary_rashomon_capacity(SR)[:, None]]
    return np.concatenate(cols, axis=1)


def _group_matrix(table: PatternTable, intersect: bool, cell_of_row: np.ndarray) -> list[tuple[str, np.ndarray]]:
    out = []
    for attr, members in group_members(table, intersect):
        for group, row_mask in members:
            cells = np.unique(table.row_cell[row_mask])
            out.append((f"{attr}={group}", np.isin(cell_of_row, cells)))
    return out


def _sheet(table, intersect, names, in_set, correct, favourable, cell_of_row):
    groups = _group_matrix(table, intersect, cell_of_row)
    rows = []
    acc = correct.mean(axis=0) if correct is not None else None
    for i, name in enumerate(names):
        fr, sr = {}, {}
        for label, mask in groups:
            k = int(mask.sum())
            fr[label] = (Metric(float(1 - correct[mask, i].mean())) if correct is not None and k
                         else Metric(None, "no labels" if correct is None else "empty group"))
            sr[label] = Metric(float(favourable[mask, i].mean())) if k else Metric(None, "empty group")
        rows.append(SheetRow(name, bool(in_set[i]), Metric(float(acc[i])) if acc is not None
                             else Metric(None, "no labels"), fr, sr))
    spread: dict[str, Metric] = {}
    members = [r for r in rows if r.in_set]

    def spread_of(values: list[float | None]) -> Metric:
        vals = [v for v in values if v is not None]
        return Metric(max(vals) - min(vals)) if vals else Metric(None, "undefined for every member")

    spread["accuracy"] = spread_of([r.accuracy.value for r in members])
    for label, _ in groups:
        spread[f"failure_rate {label}"] = spread_of([r.failure_rates[label].value for r in members])
        spread[f"selection_rate {label}"] = spread_of([r.selection_rates[label].value for r in members])
    return rows, spread


@dataclass(frozen=True)
class LdaData:
    """What the LDA search reads, per linked person (rows) and candidate (columns): whether each candidate
    is right (None without labels), gives the favourable decision, and its decision; and who they are."""

    table: PatternTable
    names: list[str]
    base: int  # the baseline candidate
    correct: np.ndarray | None
    favourable: np.ndarray
    decisions: np.ndarray
    cell_of_row: np.ndarray
    attribute: str | None  # the group attribute disparity is measured over
    label_favourable: np.ndarray | None  # 1.0 where the person's label is the favourable value


@dataclass(frozen=True)
class LdaSearch:
    """How to search: the utility tolerance ε, the utility and disparity measures, the FPR weight λ of
    TPR − λ·FPR, and the bootstrap."""

    epsilon: float
    utility: str
    disparity: str
    fpr_weight: float
    inference: InferenceOptions
    rng: np.random.Generator


def _lda(data: LdaData, search: LdaSearch, rows: np.ndarray | None = None) -> LDAResult:
    """LDA search on the rows given (all by default): disparity over `data.attribute`, paired bootstrap."""
    table, names, base, correct, favourable, D, cell_of_row, attribute = (
        data.table, data.names, data.base, data.correct, data.favourable, data.decisions, data.cell_of_row,
        data.attribute)
    epsilon, utility, disparity_kind, fpr_weight, inference, rng = (
        search.epsilon, search.utility, search.disparity, search.fpr_weight, search.inference, search.rng)
    note = ("A search over the supplied candidates using a convention (the four-fifths selection-rate ratio or "
            "the failure-rate gap), not a legal finding. The lowest in-sample disparity among many candidates is "
            "optimistically biased (Laufer, Raghavan, Barocas 2024).")
    if attribute is None:
        return LDAResult(None, None, disparity_kind, utility, names[base], epsilon, [],
                         note + " Not computed: no --group attribute.")
    if correct is None:
        return LDAResult(None, table.attributes[0], disparity_kind, utility, names[base], epsilon, [],
                         note + " Not computed: needs --label.")
    attr = attribute
    rows = np.ones(len(D), dtype=bool) if rows is None else rows
    groups = [(g, np.isin(cell_of_row, np.unique(table.row_cell[mask]))[rows]) for g, mask in table.groups(attr)]
    G = np.stack([mask for _, mask in groups], axis=1).astype(float)  # (N, G)
    D, correct, favourable = D[rows], correct[rows], favourable[rows]
    m = len(names)
    assert data.label_favourable is not None  # labels come with `correct`
    y = data.label_favourable[rows]
    n = len(D)
    x = np.concatenate([correct, (favourable[:, :, None] * G[:, None, :]).reshape(n, -1),
                        ((1 - correct)[:, :, None] * G[:, None, :]).reshape(n, -1), G,
                        favourable * y[:, None], y[:, None]], axis=1)
    ng = len(groups)

    def stats(means: np.ndarray) -> tuple[np.ndarray, ...]:
        """Utility, accuracy, selection-rate ratio, failure-rate gap and selection-rate difference per
        candidate from column means."""
        acc = means[..., :m]
        sel = means[..., m:m + m * ng].reshape(*means.shape[:-1], m, ng)
        err = means[..., m + m * ng:m + 2 * m * ng].reshape(*means.shape[:-1], m, ng)
        share = means[..., m + 2 * m * ng:m + 2 * m * ng + ng]
        tp = means[..., m + 2 * m * ng + ng:m + 2 * m * ng + ng + m]
        pos = means[..., -1:]
        rates = divide(sel, share[..., None, :])
        errs = divide(err, share[..., None, :])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an empty group in a replicate: NaN, by policy
            ratio = divide(np.nanmin(rates, axis=-1), np.nanmax(rates, axis=-1))
            gap = np.nanmax(errs, axis=-1) - np.nanmin(errs, axis=-1)
            # Two groups: the first's rate minus the second's (signed); more: the largest minus the smallest.
            diff = (rates[..., 0] - rates[..., 1] if ng == 2
                    else np.nanmax(rates, axis=-1) - np.nanmin(rates, axis=-1))
        if utility == "accuracy":
            return acc, acc, ratio, gap, diff
        # Laufer, Raghavan, Barocas: TPR − λ·FPR (λ = 1 in their reference code).
        tpr = divide(tp, pos)
        fpr = divide(sel.sum(axis=-1) - tp, 1 - pos)
        return tpr - fpr_weight * fpr, acc, ratio, gap, diff

    def disparity(ratio: np.ndarray, gap: np.ndarray, diff: np.ndarray) -> np.ndarray:
        return {"selection-rate-ratio": 1 - ratio, "failure-rate-gap": gap,
                "selection-rate-difference": np.abs(diff)}[disparity_kind]

    means = x.mean(axis=0)
    util, acc, ratio, gap, diff = stats(means)
    disp = disparity(ratio, gap, diff)
    reps = bootstrap_means(x, inference.bootstrap, rng) if inference.bootstrap > 0 else None
    r_util = r_disp = r_diff = None
    if reps is not None:
        r_util, _, r_ratio, r_gap, r_diff = stats(reps)
        r_disp = disparity(r_ratio, r_gap, r_diff)
    front = mm.pareto_front(util, np.nan_to_num(disp, nan=np.inf))
    candidates = []
    for i, name in enumerate(names):
        within = bool(util[i] >= util[base] - epsilon - 1e-12)
        less = bool(i != base and within and disp[i] < disp[base] - 1e-12)
        du = _ci_metric(float(util[i] - util[base]), None if r_util is None else r_util[:, i] - r_util[:, base],
                        inference.alpha, "undefined utility")
        dd = _ci_metric(float(disp[i] - disp[base]), None if r_disp is None else r_disp[:, i] - r_disp[:, base],
                        inference.alpha, "undefined disparity (a group with no favourable decision)")
        candidates.append(LDACandidate(
            name=name, accuracy=attach(Metric(float(acc[i])), wilson(acc[i] * len(D), len(D), inference.alpha)
                                       if inference.bootstrap > 0 else None),
            utility=Metric.of(util[i], "undefined"),
            selection_rate_ratio=_four_fifths(_ci_metric(float(ratio[i]), None if reps is None else r_ratio[:, i],
                                                         inference.alpha, "no group receives the favourable decision")),
            selection_rate_difference=_ci_metric(float(diff[i]), None if r_diff is None else r_diff[:, i],
                                                 inference.alpha, "a group is empty"),
            failure_rate_gap=Metric.of(gap[i], "undefined"), within_epsilon=within, less_discriminatory=less,
            pareto=bool(front[i]), utility_difference=du, disparity_difference=dd,
            decisions_changed=int((D[:, i] != D[:, base]).sum()),
        ))
    exists = any(c.less_discriminatory for c in candidates)
    order = (f" selection_rate_difference is {groups[0][0]}'s rate minus {groups[1][0]}'s." if ng == 2 else
             " selection_rate_difference is the largest group's selection rate minus the smallest's.")
    return LDAResult(exists, attr, disparity_kind, utility, names[base], epsilon, candidates, note + order)


def _four_fifths(m: Metric) -> Metric:
    """Flag a selection-rate ratio under the four-fifths convention (0.8)."""
    if m.value is not None and m.value < 0.8:
        m.flags.append("below four-fifths (0.8)")
    return m


def _split_lda(data: LdaData, search: LdaSearch, split: str, select_on: str, report_on: str) -> LDAResult:
    """Choose on one split, report on another (Laufer, Raghavan, Barocas 2024): the in-sample minimum
    disparity over many candidates is optimistically biased, so the numbers come from held-out people."""
    table, cell_of_row = data.table, data.cell_of_row
    values = dict(table.groups(split))
    for v in (select_on, report_on):
        if v not in values:
            raise UsageError(f"{{multiplicity.split}} {split} has no value '{v}' (values: {', '.join(sorted(values))})")

    def rows(v: str) -> np.ndarray:
        return np.isin(cell_of_row, np.unique(table.row_cell[values[v]]))

    chosen = _lda(data, search, rows=rows(select_on))
    reported = _lda(data, search, rows=rows(report_on))
    held = []
    for c_sel, c_rep in zip(chosen.candidates, reported.candidates, strict=True):
        # The verdict is the report split's: a candidate chosen on the selection split counts only if it is
        # also within ε and strictly fairer on the held-out people (selection alone is optimistic).
        c_rep.chosen_on_selection = c_sel.less_discriminatory
        c_rep.less_discriminatory = c_sel.less_discriminatory and c_rep.less_discriminatory
        if c_sel.less_discriminatory:
            d = c_rep.disparity_difference
            interval = (f" [{d.ci[0]:.3g}, {d.ci[1]:.3g}], which "
                        + ("excludes no change" if d.ci[1] < 0 else "does not exclude no change")) if d.ci else ""
            verdict = "holds" if c_rep.less_discriminatory else "does not hold"
            value = f"{d.value:+.3g}" if d.value is not None else "undefined"
            held.append(f"{c_rep.name} {verdict} there (Δ disparity {value}{interval})")
    reported.exists = any(c.less_discriminatory for c in reported.candidates)
    chosen_names = "; ".join(held) if held else "none was chosen"
    reported.note += (f" Alternatives chosen on {split}={select_on}; the verdict and every number are "
                      f"reported on {split}={report_on}: {chosen_names}.")
    return reported
