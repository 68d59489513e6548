"""The failure rule: what counts as failing a person (metrics.md §0)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from .. import choices
from .base import SpecError, one_of


@dataclass(frozen=True)
class FailureRule:
    """What counts as failing a person. See metrics.md §0.

    kind
        ``error`` (decision ≠ label, multiclass allowed), ``outcome`` (decision is the unfavourable
        value), ``false-negative`` (label favourable, decision not), ``false-positive`` (label not
        favourable, decision favourable).
    threshold / thresholds / top_fraction
        Turn numeric scores into decisions: favourable when ``score >= threshold`` (``<=`` with
        `lower_is_favorable`), per decision-maker overrides in `thresholds`; or the top `top_fraction`
        of each decision-maker's own rows, ties broken by ID so row order never matters.
    population
        ``can-fail`` (default): a false-negative rule is measured among the people whose label is
        favourable, a false-positive rule among those whose label is not (FNR = FN / positives, FPR = FP /
        negatives); ``everyone``: among all people (FN / everyone). Other rules can fail anyone.
    """

    kind: str = "error"
    favorable: str | None = None  # the favourable decision (and label, unless favorable_label is given)
    unfavorable: str | None = None  # the unfavourable decision (and label, unless unfavorable_label is given)
    threshold: float | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    top_fraction: float | None = None
    lower_is_favorable: bool = False
    population: str = "can-fail"
    favorable_label: str | None = None  # the label's own vocabulary, when it is not the decisions'
    unfavorable_label: str | None = None

    def __post_init__(self) -> None:
        one_of("rule.kind", self.kind, choices.FAILURE_KINDS)
        one_of("rule.population", self.population, choices.POPULATIONS)
        if self.favorable_label is not None and self.unfavorable_label is not None:
            raise SpecError("rule.favorable_label", "and an unfavourable label exclude each other: give one")
        if self.top_fraction is not None and (self.threshold is not None or self.thresholds):
            raise SpecError("rule.top_fraction", "and a threshold exclude each other: give one")
        if self.top_fraction is not None and not 0 < self.top_fraction < 1:
            raise SpecError("rule.top_fraction", f"must be between 0 and 1 (exclusive); got {self.top_fraction}")
        for value in [self.threshold, *self.thresholds.values()]:
            if value is not None and not math.isfinite(value):
                raise SpecError("rule.threshold", f"must be a finite number; got {value}")

    @property
    def uses_scores(self) -> bool:
        return self.threshold is not None or bool(self.thresholds) or self.top_fraction is not None

    @property
    def needs_label(self) -> bool:
        return self.kind != "outcome"

    @property
    def own_label_vocabulary(self) -> bool:
        """Labels have values of their own (0/1 against Low/Medium/High): compared as favourable or not."""
        return self.favorable_label is not None or self.unfavorable_label is not None

    @property
    def conditional(self) -> bool:
        """Measured only among the people the rule can fail (false-negative and false-positive rules)."""
        return self.kind in ("false-negative", "false-positive") and self.population == "can-fail"

    def validate(self, names: list[str]) -> None:
        """Check the per-decision-maker thresholds against the decision-makers the inputs hold."""
        unknown = sorted(set(self.thresholds) - set(names))
        if unknown:
            raise SpecError("rule.threshold", f"names decision-maker '{unknown[0]}', which is not among the "
                                              f"inputs ({', '.join(names)})")
        if self.thresholds and self.threshold is None and set(self.thresholds) != set(names):
            missing = sorted(set(names) - set(self.thresholds))
            raise SpecError("rule.threshold", f"is missing for decision-maker '{missing[0]}': give a default "
                                              "threshold too")

    @classmethod
    def of(
        cls, kind: str | None, label: str | None, *, favorable: str | None = None, unfavorable: str | None = None,
        threshold: float | None = None, thresholds: Mapping[str, float] | None = None,
        top_fraction: float | None = None, lower_is_favorable: bool = False, population: str = "can-fail",
        favorable_label: str | None = None, unfavorable_label: str | None = None,
    ) -> FailureRule:
        """The rule the options describe. Without a kind the rule is ``error``, which needs a label."""
        if kind is None:
            if label is None:
                raise SpecError("rule.kind", "is not given and there is no label: name a label column (the "
                                             "rule is then error: decision ≠ label) or choose the outcome rule")
            kind = "error"
        return cls(kind=kind, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
                   thresholds=dict(thresholds or {}), top_fraction=top_fraction,
                   lower_is_favorable=lower_is_favorable, population=population,
                   favorable_label=favorable_label, unfavorable_label=unfavorable_label)

    def echo(self) -> dict:
        return asdict(self) | {"thresholds": dict(sorted(self.thresholds.items()))}
