"""One audit, whole: `AuditSpec`, and the options echo the report records."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import choices
from .base import SpecError
from .options import EngineOptions, InferenceOptions, LinkOptions, MeasureOptions, Thresholds
from .reading import Columns, Inputs, reading
from .rule import FailureRule


@dataclass(frozen=True)
class AuditSpec:
    """One audit, whole. Build it with `AuditSpec.of` (keywords as `monoculture.audit` takes them)."""

    inputs: Inputs
    columns: Columns = field(default_factory=Columns)
    rule: FailureRule = field(default_factory=FailureRule)
    link: LinkOptions = field(default_factory=LinkOptions)
    inference: InferenceOptions = field(default_factory=InferenceOptions)
    measure: MeasureOptions = field(default_factory=MeasureOptions)
    engine: EngineOptions = field(default_factory=EngineOptions)
    emit_ids: str | None = None  # where to write the IDs of those failed by all (the only way IDs leave)

    def __post_init__(self) -> None:
        if self.link.on_missing_decision == "fail" and self.rule.uses_scores:
            raise SpecError("link.missing_decision", "fail takes decisions, not scores: a missing score has no "
                                                     "decision to count as a failure")
        if self.emit_ids is not None and self.inputs.patterns:
            raise SpecError("emit_ids", "needs the input files: a pattern table holds no IDs")

    @classmethod
    def of(
        cls,
        inputs: Sequence[str] = (),
        *,
        failure: str | None = None,
        favorable: str | None = None,
        unfavorable: str | None = None,
        threshold: float | None = None,
        thresholds: Mapping[str, float] | None = None,
        top_fraction: float | None = None,
        lower_is_favorable: bool = False,
        population: str = "can-fail",
        favorable_label: str | None = None,
        unfavorable_label: str | None = None,
        join: str = "inner",
        on_duplicate: str = "error",
        on_missing: str = "error",
        on_group_conflict: str = "error",
        missing_decision: str | None = None,
        answers: str = "auto",
        options: int | None = None,
        round_order: str = "natural",
        inference: InferenceOptions | None = None,
        intersect: bool = False,
        min_group_size: int = 30,
        suppress_below: int = 0,
        parity: str | None = None,
        strata: str | None = None,
        gates: Thresholds | None = None,
        emit_ids: str | os.PathLike | None = None,
        components: str | None = None,
        patterns: Sequence[str] | None = None,
        engine: str = "auto",
        memory_limit: str | None = None,
        spark_master: str | None = None,
        id_shards: int | None = None,
        **read: Any,
    ) -> AuditSpec:
        """The spec from the keywords of `monoculture.audit` (each as the CLI option of the same name).

        `read`: the keywords of `reading` (columns, layout, people file, round column). The CLI's own names
        are accepted too (`CLI_NAMES`): ``id``, ``group`` (one name or a list), and the interval options
        ``bootstrap``, ``seed``, ``alpha``, ``ci``, ``permutations``, ``adjust``, ``pair_intervals``.
        """
        read, inference = _cli_names(read, inference)
        if strata is not None and strata not in read.get("groups", ()):  # strata are cells of the table too
            read = read | {"groups": [*read.get("groups", ()), strata]}
        where, columns = reading(inputs, patterns=patterns, **read)
        if where.layout in choices.EVAL_LAYOUTS and missing_decision is None:
            missing_decision = "fail"  # an answer that could not be extracted is scored wrong by every log
        return cls(
            inputs=where,
            columns=columns,
            # A pattern table carries its own rule: none is needed (nor checked) to read one.
            rule=FailureRule() if patterns else FailureRule.of(
                failure, columns.label, favorable=favorable, unfavorable=unfavorable, threshold=threshold,
                thresholds=thresholds, top_fraction=top_fraction, lower_is_favorable=lower_is_favorable,
                population=population, favorable_label=favorable_label, unfavorable_label=unfavorable_label),
            link=LinkOptions(join=join, on_duplicate=on_duplicate, on_missing=on_missing,
                             on_group_conflict=on_group_conflict, missing_decision=missing_decision,
                             answers=answers),
            inference=inference or InferenceOptions(),
            measure=MeasureOptions(intersect=intersect, min_group_size=min_group_size, suppress_below=suppress_below,
                                   parity=parity, components=components, gates=gates or Thresholds(),
                                   strata=strata, options=options, round_order=round_order),
            engine=EngineOptions(engine=engine, memory_limit=memory_limit, spark_master=spark_master,
                                 id_shards=id_shards),
            emit_ids=None if emit_ids is None else str(emit_ids),
        )

    def echo_counting(self) -> dict:
        """The reading, linking and rule settings, as the report's `options` (and a pattern file) record them."""
        c, layout, link = self.columns, self.inputs.layout, self.link
        return {
            "id": c.id, "decision": c.decision, "label": c.label, "groups": list(c.groups),
            "intersect": self.measure.intersect, "people": self.inputs.people, "people_id": c.people_id,
            "per_input": c.echo(), "delimiter": self.inputs.delimiter, "layout": layout,
            "decision_columns": list(c.decision_columns),
            "decision_maker_column": (c.decision_maker_column
                                      if layout in ("stacked", "transposed", *choices.EVAL_LAYOUTS) else None),
            **({"metric": self.inputs.metric} if layout in choices.EVAL_LAYOUTS else {}),
            **({"options_column": c.options} if c.options else {}),
            "failure": self.rule.echo(),
            "join": link.join, "on_duplicate": link.on_duplicate, "on_missing": link.on_missing,
            "on_group_conflict": link.on_group_conflict, "missing_decision": link.on_missing_decision,
        }

    def echo_measuring(self) -> dict:
        """The measuring settings the report's `options` add to what was counted."""
        m = self.measure
        return {"inference": asdict(self.inference), "min_group_size": m.min_group_size,
                "suppress_below": m.suppress_below, "parity": m.parity, "strata": m.strata}


# The CLI's option names that differ from the library's keywords (`AuditSpec.of` takes both).
CLI_NAMES = {"id": "id_column", "group": "groups"}
INFERENCE_NAMES = ("bootstrap", "seed", "alpha", "ci", "permutations", "adjust", "pair_intervals")


def _cli_names(
    read: dict[str, Any], inference: InferenceOptions | None,
) -> tuple[dict[str, Any], InferenceOptions | None]:
    """`read` with the CLI's names turned into the library's, and the interval options gathered."""
    read = dict(read)
    for cli, lib in CLI_NAMES.items():
        if cli in read:
            if lib in read:
                raise SpecError(lib, f"is given twice (as {cli} and {lib}): give one")
            value = read.pop(cli)
            read[lib] = [value] if lib == "groups" and isinstance(value, str) else value
    if isinstance(read.get("groups"), str):
        read["groups"] = [read["groups"]]
    given = {name: read.pop(name) for name in INFERENCE_NAMES if name in read}
    if given:
        if inference is not None:
            raise SpecError("inference.bootstrap", f"and the other interval options are given twice (as "
                                                   f"{', '.join(given)} and in inference=): give one")
        inference = InferenceOptions(**given)
    return read, inference

