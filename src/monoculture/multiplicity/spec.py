"""The specification of a multiplicity audit: the inputs as candidate models, and what to look for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..spec import Columns, FailureRule, InferenceOptions, Inputs, LinkOptions, SpecError, one_of, reading

UTILITIES = ("accuracy", "tpr-fpr")
DISPARITIES = ("selection-rate-ratio", "selection-rate-difference", "failure-rate-gap")


@dataclass(frozen=True)
class MultiplicityOptions:
    """The Rashomon set and the search for a less discriminatory alternative (metrics.md §6–§7)."""

    epsilon: float = 0.01
    baseline: str | None = None
    arbitrary_threshold: float = 0.2
    utility: str = "accuracy"
    disparity: str = "selection-rate-ratio"
    split: str | None = None
    select_on: str | None = None
    report_on: str | None = None
    intersect: bool = False
    lda_epsilon: float | None = None  # the LDA's utility tolerance; None: epsilon (the Rashomon set's)
    fpr_weight: float = 1.0  # λ of the TPR − λ·FPR utility (--lambda)

    @property
    def lda_tolerance(self) -> float:
        return self.epsilon if self.lda_epsilon is None else self.lda_epsilon

    def __post_init__(self) -> None:
        one_of("multiplicity.utility", self.utility, UTILITIES)
        one_of("multiplicity.disparity", self.disparity, DISPARITIES)
        if self.epsilon < 0:
            raise SpecError("multiplicity.epsilon", f"must be >= 0; got {self.epsilon}")
        if self.lda_epsilon is not None and self.lda_epsilon < 0:
            raise SpecError("multiplicity.lda_epsilon", f"must be >= 0; got {self.lda_epsilon}")
        if self.fpr_weight < 0:
            raise SpecError("multiplicity.fpr_weight", f"must be >= 0; got {self.fpr_weight}")
        if len({self.split is None, self.select_on is None, self.report_on is None}) > 1:
            raise SpecError("multiplicity.split", "goes with select_on and report_on: give all three or none")


@dataclass(frozen=True)
class MultiplicitySpec:
    """The inputs as candidate models for one decision. Build it with `MultiplicitySpec.of`."""

    inputs: Inputs
    asked: Columns  # the columns as given; `columns` adds the split attribute to the groups read
    rule: FailureRule
    link: LinkOptions
    inference: InferenceOptions = field(default_factory=InferenceOptions)
    options: MultiplicityOptions = field(default_factory=MultiplicityOptions)

    @property
    def columns(self) -> Columns:
        split, groups = self.options.split, self.asked.groups
        return replace(self.asked, groups=groups + ((split,) if split and split not in groups else ()))

    @classmethod
    def of(
        cls,
        inputs: Sequence[str] = (),
        *,
        favorable: str | None = None,
        threshold: float | None = None,
        thresholds: Mapping[str, float] | None = None,
        top_fraction: float | None = None,
        lower_is_favorable: bool = False,
        epsilon: float = 0.01,
        baseline: str | None = None,
        arbitrary_threshold: float = 0.2,
        utility: str = "accuracy",
        disparity: str = "selection-rate-ratio",
        split: str | None = None,
        select_on: str | None = None,
        report_on: str | None = None,
        lda_epsilon: float | None = None,
        fpr_weight: float = 1.0,
        intersect: bool = False,
        on_duplicate: str = "error",
        on_missing: str = "error",
        inference: InferenceOptions | None = None,
        **read: Any,
    ) -> MultiplicitySpec:
        """The spec from the keywords of `monoculture.multiplicity` (each as the CLI option of that name).

        `read`: the keywords of `reading` (with `score`, the probability of the favourable class). Candidates
        decide on the same people (inner join); the split attribute is read as a group too.
        """
        options = MultiplicityOptions(epsilon=epsilon, baseline=baseline, arbitrary_threshold=arbitrary_threshold,
                                      utility=utility, disparity=disparity, split=split, select_on=select_on,
                                      report_on=report_on, intersect=intersect, lda_epsilon=lda_epsilon,
                                      fpr_weight=fpr_weight)
        where, asked = reading(inputs, **read)
        return cls(
            inputs=where,
            asked=asked,
            rule=FailureRule(kind="error" if asked.label else "outcome", favorable=favorable, threshold=threshold,
                             thresholds=dict(thresholds or {}), top_fraction=top_fraction,
                             lower_is_favorable=lower_is_favorable),
            link=LinkOptions(join="inner", on_duplicate=on_duplicate, on_missing=on_missing, per_person=True),
            inference=inference or InferenceOptions(),
            options=options,
        )
