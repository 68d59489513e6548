"""Failure rules: how decisions (and labels) become the failure matrix F[j, i].

metrics.md §0: F[j, i] = 1 when decision-maker i fails individual j. The rule is explicit and is echoed
in every report through `ResolvedRule.description`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError, UsageError
from ..read.sources import Source
from ..read.values import Vocabulary, as_numbers, canonical
from ..spec import FailureRule


@dataclass(frozen=True)
class ResolvedRule:
    """A rule with its defaults filled in from the data, and the sentence every report prints."""

    rule: FailureRule
    favorable: str | None  # the favourable decision
    unfavorable: str | None  # the unfavourable decision (outcome rule)
    description: str
    label_favorable: str | None = None  # the label side: favourable when equal to this...
    label_unfavorable: str | None = None  # ... or when not equal to this (the label's own vocabulary)


def resolve(rule: FailureRule, decision_tokens: set[str], label_tokens: set[str]) -> ResolvedRule:
    """Fill in the favourable/unfavourable value where the data make it unambiguous (0/1 coding)."""
    fav = canonical(rule.favorable) if rule.favorable is not None else None
    unfav = canonical(rule.unfavorable) if rule.unfavorable is not None else None
    binary = {"0", "1"}
    direction = "<=" if rule.lower_is_favorable else ">="
    if rule.uses_scores:
        if rule.top_fraction is not None:
            how = (f"the top {rule.top_fraction:g} of each decision-maker's scores (ties broken by ID) "
                   "get the favourable decision")
        else:
            per = "".join(f", {k}: {v:g}" for k, v in sorted(rule.thresholds.items()))
            default = f"{rule.threshold:g}" if rule.threshold is not None else "per decision-maker"
            how = f"score {direction} {default}{per} is the favourable decision"
        if rule.kind == "outcome":
            return ResolvedRule(rule, None, None, f"failure = unfavourable decision; {how}")
        fav = fav if fav is not None else "1"
        lf, lu = _label_side(rule, fav, label_tokens)
        what = {"error": "decision ≠ label", "false-negative": "label favourable and decision not",
                "false-positive": "label not favourable and decision favourable"}[rule.kind]
        return ResolvedRule(rule, fav, None, f"failure = {what} ({_label_words(lf, lu)}); {how}{_among(rule, lf, lu)}",
                            lf, lu)
    if rule.kind == "error" and rule.own_label_vocabulary:
        fav = _decision_favourable(rule, fav, decision_tokens)
        lf, lu = _label_side(rule, fav, label_tokens)
        return ResolvedRule(rule, fav, None, f"failure = error: the decision is favourable (= {fav}) and the label "
                                             f"not, or the reverse ({_label_words(lf, lu)})", lf, lu)
    if rule.kind == "error":
        if label_tokens and decision_tokens and not (label_tokens & decision_tokens):
            raise InputError(
                f"no decision value ever equals a label value (decisions: {_show(decision_tokens)}; "
                f"labels: {_show(label_tokens)}), so every decision would count as an error; "
                "recode one of them or use {rule.kind=outcome}"
            )
        return ResolvedRule(rule, None, None, "failure = error (decision ≠ label)")
    if rule.kind == "outcome":
        if unfav is None and fav is None:
            if decision_tokens <= binary:
                unfav = "0"
            else:
                raise UsageError(
                    "{rule.kind=outcome} needs {rule.unfavorable=VALUE} (or {rule.favorable=VALUE}); "
                    f"decisions take the values {_show(decision_tokens)}"
                )
        if unfav is not None:
            if unfav not in decision_tokens:
                raise InputError(
                    f"{{rule.unfavorable}} '{unfav}' never occurs among the decisions ({_show(decision_tokens)})"
                )
            return ResolvedRule(rule, fav, unfav, f"failure = unfavourable outcome (decision = {unfav})")
        fav = _decision_favourable(rule, fav, decision_tokens)
        return ResolvedRule(rule, fav, None, f"failure = unfavourable outcome (decision ≠ {fav})")
    if fav is None and not rule.own_label_vocabulary and not (decision_tokens <= binary and label_tokens <= binary):
        raise UsageError(f"{{rule.kind={rule.kind}}} needs {{rule.favorable=VALUE}} "
                         "(the favourable decision and label)")
    fav = _decision_favourable(rule, fav, decision_tokens)
    lf, lu = _label_side(rule, fav, label_tokens)
    what = ("label favourable and decision not" if rule.kind == "false-negative"
            else "label not favourable and decision favourable")
    words = f"favourable = {fav}" if lf == fav else f"favourable decision = {fav}, {_label_words(lf, lu)}"
    return ResolvedRule(rule, fav, None, f"failure = {rule.kind} ({what}; {words}){_among(rule, lf, lu)}", lf, lu)


def _decision_favourable(rule: FailureRule, fav: str | None, decision_tokens: set[str]) -> str:
    """The favourable decision: as given, or 1 for 0/1 decisions; it must occur among the decisions."""
    if fav is None:
        if decision_tokens <= {"0", "1"}:
            fav = "1"
        else:
            raise UsageError(f"{{rule.kind={rule.kind}}} needs {{rule.favorable=VALUE}} (the favourable decision; "
                             f"decisions take the values {_show(decision_tokens)})")
    if decision_tokens and fav not in decision_tokens:
        # Every row would then count as 'decision not favourable': the rate reported would be the share of
        # favourable labels, whatever the decision-makers did.
        raise InputError(f"{{rule.favorable}} '{fav}' never occurs among the decisions ({_show(decision_tokens)}); "
                         "name the favourable decision value, or turn scores into decisions with {rule.threshold}")
    return fav


def _label_side(rule: FailureRule, fav: str, label_tokens: set[str]) -> tuple[str | None, str | None]:
    """The label's favourable value (or its unfavourable one), which must occur among the labels."""
    if rule.unfavorable_label is not None:
        lu = canonical(rule.unfavorable_label)
        _check_label_vocab(label_tokens, lu, "rule.unfavorable_label")
        return None, lu
    lf = canonical(rule.favorable_label) if rule.favorable_label is not None else fav
    _check_label_vocab(label_tokens, lf, "rule.favorable_label" if rule.own_label_vocabulary else "rule.favorable")
    return lf, None


def _label_words(lf: str | None, lu: str | None) -> str:
    return f"favourable label = {lf}" if lu is None else f"unfavourable label = {lu}"


def _among(rule: FailureRule, lf: str | None, lu: str | None) -> str:
    """The population a false-negative or false-positive rule is measured in, in words."""
    if not rule.conditional:
        return "; measured among everyone" if rule.kind in ("false-negative", "false-positive") else ""
    positive = rule.kind == "false-negative"
    if lu is not None:
        return f"; among people whose label is {'not ' if positive else ''}{lu}"
    return f"; among people whose label is {'' if positive else 'not '}{lf}"


def _show(tokens: set[str], limit: int = 6) -> str:
    """Some of the values, and a hint when they look like scores rather than decisions."""
    shown = sorted(tokens)[:limit]
    text = ", ".join(repr(t) for t in shown) + (", ..." if len(tokens) > limit else "")
    if len(tokens) > 10 and all(_is_number(t) for t in tokens):
        text += f": {len(tokens):,} distinct numbers look like scores; turn them into decisions with {{rule.threshold}}"
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_label_vocab(label_tokens: set[str], value: str, setting: str) -> None:
    """The label value `setting` names must occur among the labels; the error says which setting to fix."""
    if label_tokens and value not in label_tokens:
        raise InputError(
            f"the {{{setting}}} value ({_show({value})}) never occurs among the labels ({_show(label_tokens)}); "
            f"name it with {{{setting}}}"
        )


def favourable_from_scores(
    rule: FailureRule, name: str, scores: np.ndarray, ids: pa.Array, valid: np.ndarray
) -> np.ndarray:
    """Boolean favourable decision per row from numeric scores (rows with valid=False are ignored)."""
    if rule.top_fraction is None:
        t = rule.thresholds.get(name, rule.threshold)
        assert t is not None
        with np.errstate(invalid="ignore"):
            return scores <= t if rule.lower_is_favorable else scores >= t
    rows = np.flatnonzero(valid)
    n_select = math.ceil(rule.top_fraction * len(rows) - 1e-9)
    sign = 1.0 if rule.lower_is_favorable else -1.0
    # Ties at the cut-off are broken by the ID (ascending), so the result does not depend on row order.
    table = pa.table({"s": pa.array(sign * scores[rows]), "id": ids.take(pa.array(rows))})
    order = pc.sort_indices(table, sort_keys=[("s", "ascending"), ("id", "ascending")]).to_numpy()
    out = np.zeros(len(scores), dtype=bool)
    out[rows[order[:n_select]]] = True
    return out


def in_population(resolved: ResolvedRule, vocab: Vocabulary, label: np.ndarray | None) -> np.ndarray | None:
    """Whether each row is among the people the rule can fail (None: everyone is).

    A conditional false-negative rule (`FailureRule.conditional`) can fail only people whose label is
    favourable, a false-positive rule only those whose label is not: the denominators of the false-negative
    and false-positive rates (metrics.md §0). Rows with a missing label get an arbitrary value; the caller
    masks them.
    """
    if not resolved.rule.conditional:
        return None
    assert label is not None
    positive = label_favourable(resolved, vocab, label)
    return positive if resolved.rule.kind == "false-negative" else ~positive


def label_favourable(resolved: ResolvedRule, vocab: Vocabulary, label: np.ndarray) -> np.ndarray:
    """Whether each row's label (codes in `vocab`) is favourable under the resolved rule."""
    if resolved.label_unfavorable is not None:
        return label != vocab.code(resolved.label_unfavorable)
    favourable = resolved.label_favorable if resolved.label_favorable is not None else resolved.favorable
    assert favourable is not None
    return label == vocab.code(favourable)


def failures(
    resolved: ResolvedRule,
    vocab: Vocabulary,
    decision: np.ndarray,
    label: np.ndarray | None,
    favourable_pred: np.ndarray | None,
) -> np.ndarray:
    """F for one decision-maker's rows, from token codes (or score-based favourable decisions).

    Rows with a missing decision or label get an arbitrary value; the caller masks them.
    """
    kind = resolved.rule.kind
    fav = vocab.code(resolved.favorable) if resolved.favorable is not None else None
    if favourable_pred is not None:
        if kind == "outcome":
            return ~favourable_pred
        assert label is not None
        y_fav = label_favourable(resolved, vocab, label)
        if kind == "error":
            return favourable_pred != y_fav
        return (y_fav & ~favourable_pred) if kind == "false-negative" else (~y_fav & favourable_pred)
    if kind == "error" and not resolved.rule.own_label_vocabulary:
        assert label is not None
        return decision != label
    if kind == "outcome":
        if resolved.unfavorable is not None:
            return decision == vocab.code(resolved.unfavorable)
        return decision != fav
    assert label is not None and fav is not None
    y_fav = label_favourable(resolved, vocab, label)
    if kind == "error":
        return (decision == fav) != y_fav
    if kind == "false-negative":
        return y_fav & (decision != fav)
    return ~y_fav & (decision == fav)


PROBABILITY_SUM_TOLERANCE = 1e-3  # rounding in the files (probabilities written to 3-4 decimals)


def per_person_scores(s: Source, rows: np.ndarray, valid: np.ndarray, universe: int,
                      classes: tuple[str, list[str]] | None) -> np.ndarray | None:
    """Multiplicity: the input's score per ID code, (universe,), or its class probabilities, (universe,
    classes); NaN where the input has no row. `rows` are the codes of the `valid` rows; `classes`: the first
    input's file and class columns, which every input must have (None: this is the first)."""
    columns = {"score": s.score} if s.score is not None else s.probabilities
    if not columns:
        return None
    if s.score is None and classes is not None and list(columns) != classes[1]:
        raise InputError(f"has the class probability columns {', '.join(columns)}; {classes[0]} has "
                         f"{', '.join(classes[1])}: every candidate needs the same classes, in the same order",
                         file=s.file)
    values = np.column_stack([as_numbers(c, s.file, name) for name, c in columns.items()])[valid]
    if s.score is None:  # a score rule may threshold any number; probabilities must be probabilities
        check_probabilities(values, s, valid)
    out = np.full((universe, values.shape[1]), np.nan)
    out[rows] = values
    return out[:, 0] if s.score is not None else out


def check_probabilities(values: np.ndarray, source: Source, valid: np.ndarray) -> None:
    """Class probabilities of the linked rows (n, classes): each present, in [0, 1], summing to 1."""
    names = list(source.probabilities)
    bad_value = np.isnan(values) | (values < 0) | (values > 1)
    sums = values.sum(axis=1)
    bad_row = bad_value.any(axis=1) | (np.abs(sums - 1) > PROBABILITY_SUM_TOLERANCE)
    if not bad_row.any():
        return
    i = int(np.argmax(bad_row))
    row = source.row_in_file(int(np.flatnonzero(valid)[i]) + 1)
    if bad_value[i].any():
        j = int(np.argmax(bad_value[i]))
        raise InputError("a class probability must be a number in [0, 1]" + (" (it is missing)" if np.isnan(
            values[i, j]) else f"; got {values[i, j]:g}"), file=source.file, column=names[j], row=row)
    raise InputError(f"the class probabilities ({', '.join(names)}) sum to {sums[i]:.6g}, not 1: give each "
                     "class's probability (a softmax of log-likelihoods, for instance)", file=source.file, row=row)
