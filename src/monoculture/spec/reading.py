"""What to read and which columns: `Inputs`, `Columns`, and `reading`, which builds both from keywords."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from .. import choices
from .base import SpecError, one_of
from .logs import LOG_COLUMNS, detect_log_layout
from .options import LinkOptions
from .rule import FailureRule


@dataclass(frozen=True)
class Columns:
    """Column names, as given by the user (see the CLI options of the same names)."""

    id: str = "id"
    decision: str = "decision"
    label: str | None = None
    groups: tuple[str, ...] = ()
    decision_columns: tuple[str, ...] = ()
    decision_maker_column: str = "decision_maker"
    score: str | None = None  # multiplicity: probability of the favourable class, per decision-maker
    # multiplicity: one probability column per class (names or shell-style globs such as ``p_*``, matched
    # against each file's header in its order); the same classes in every candidate file
    probabilities: tuple[str, ...] = ()
    round: str | None = None  # stacked layout: a round/version column; decision-makers become NAME@ROUND
    options: str | None = None  # stacked layout: each row's number of answer options (metrics.md §11)
    people_id: str | None = None  # the people file's ID column, when not named as the inputs' `id`
    # Files layout: an input's own names for its ID, decision or label column, {input name: {role: column}}
    # (``--id lender_b=applicant_no``); every other input uses the names above.
    per_input: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, own in self.per_input.items():
            for role in own:
                if role not in PER_INPUT_ROLES:
                    raise SpecError("columns.per_input", f"names a {role} column for input '{name}'; an input can "
                                                         f"name its own {', '.join(PER_INPUT_ROLES)} columns")
            if "label" in own and self.label is None:
                raise SpecError("columns.label", f"names input '{name}''s label column only: give the other "
                                                 "inputs' label column too (a label is every input's or none's)")

    def for_input(self, name: str) -> Columns:
        """The columns as the input named `name` calls them."""
        own = self.per_input.get(name)
        return replace(self, **own) if own else self

    def check_inputs(self, names: Sequence[str]) -> None:
        """Every input named by `per_input` is among the inputs read."""
        unknown = sorted(set(self.per_input) - set(names))
        if unknown:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise SpecError("columns.per_input", f"names input '{unknown[0]}', which is not among the inputs "
                                                 f"({shown}); an input is named by NAME=PATH or its file stem")

    def echo(self) -> dict:
        """The per-input names, when any were given, sorted (a report of the same audit is the same)."""
        return {name: dict(sorted(own.items())) for name, own in sorted(self.per_input.items())}


PER_INPUT_ROLES = ("id", "decision", "label")


@dataclass(frozen=True)
class Inputs:
    """What to read: the input arguments (``NAME=PATH``, globs, ``-``), their layout and the people file.

    `patterns`: pattern tables written by `monoculture count`, summed instead of reading inputs.
    """

    paths: tuple[str, ...] = ()
    layout: str = "files"
    people: str | None = None
    patterns: tuple[str, ...] = ()
    delimiter: str | None = None  # CSV field separator of every input and the people file; None: by suffix
    metric: str | None = None  # evaluation logs: the score that decides failure (each format has a default)

    def __post_init__(self) -> None:
        one_of("layout", self.layout, choices.LAYOUTS)
        if self.delimiter is not None and (len(self.delimiter) != 1 or self.delimiter in '"\r\n'):
            raise SpecError("inputs.delimiter", f"must be one character other than a quote or a line break; got "
                                                f"{self.delimiter!r} (a tab is written \\t)")
        if self.patterns and self.paths:
            raise SpecError("patterns", "are read instead of input files: give either, not both")
        if not self.patterns and not self.paths:
            raise SpecError("inputs", "are missing: give input files (or pattern tables)")


def reading(
    inputs: Sequence[str | os.PathLike] = (),
    *,
    id_column: str = "id",
    decision: str = "decision",
    label: str | None = None,
    groups: Sequence[str] = (),
    people: str | None = None,
    layout: str | None = None,
    decision_columns: Sequence[str] = (),
    decision_maker_column: str = "decision_maker",
    score: str | None = None,
    probabilities: Sequence[str] = (),
    round_column: str | None = None,
    options_column: str | None = None,
    people_id: str | None = None,
    patterns: Sequence[str] | None = None,
    per_input: Mapping[str, Mapping[str, str]] | None = None,
    delimiter: str | None = None,
    metric: str | None = None,
) -> tuple[Inputs, Columns]:
    """What to read and which columns, from the keywords every command shares (the CLI options' names).
    The layout defaults to ``wide`` when decision columns are named, else ``files``.

    `per_input`: an input's own ID, decision or label column, ``{"lender_b": {"id": "applicant_no"}}``
    (files layout). `delimiter`: the CSV field separator (``\\t`` or ``tab`` for a tab), else by suffix.
    Evaluation logs (``helm``, ``eee``, ``lm-eval``, detected from the file names when no layout is given) are
    read in their own columns (`logs.LOG_COLUMNS`); `metric` picks their score."""
    paths = tuple(os.fspath(p) for p in inputs)
    if layout is None and not decision_columns and not patterns:
        layout = detect_log_layout(list(paths))
    where = Inputs(paths=paths, layout=layout or ("wide" if decision_columns else "files"), people=people,
                   patterns=tuple(patterns or ()), delimiter=TAB_NAMES.get(delimiter or "", delimiter),
                   metric=metric)
    if where.layout in choices.EVAL_LAYOUTS:
        id_column, decision, label = LOG_COLUMNS["id"], LOG_COLUMNS["decision"], LOG_COLUMNS["label"]
        decision_maker_column = LOG_COLUMNS["decision_maker"]
    elif metric is not None:
        logs = "|".join(choices.EVAL_LAYOUTS)
        raise SpecError("inputs.metric", f"picks the score of evaluation logs (--layout {logs}); the "
                                         f"{where.layout} layout has decision columns instead")
    columns = Columns(id=id_column, decision=decision, label=label, groups=tuple(groups),
                      decision_columns=tuple(decision_columns), decision_maker_column=decision_maker_column,
                      score=score, probabilities=tuple(probabilities), round=round_column, options=options_column,
                      people_id=people_id,
                      per_input={name: dict(own) for name, own in (per_input or {}).items()})
    if score is not None and probabilities:
        raise SpecError("columns.probabilities", "give --score (the favourable class's probability, two classes) "
                                                 "or one probability column per class, not both")
    if probabilities and where.layout != "files":
        raise SpecError("columns.probabilities", f"are read from each candidate's own file; the {where.layout} "
                                                 "layout has one file for every candidate: use the files layout")
    if options_column is not None and where.layout != "stacked":
        raise SpecError("columns.options", f"is read from the stacked layout's one file (a row per item and "
                                           f"decision-maker); the {where.layout} layout has not that column: "
                                           "give --options N for every item, or stack the inputs")
    if columns.per_input and where.layout != "files":
        raise SpecError("columns.per_input", f"names columns of single inputs, which the {where.layout} layout "
                                             "has not (one file holds every decision-maker): use the files layout")
    return where, columns


TAB_NAMES = {"\\t": "\t", "tab": "\t", "TAB": "\t"}


class LinkSpec(Protocol):
    """What read → link needs, as every command's spec has it (read-only)."""

    inputs: Inputs
    columns: Columns
    rule: FailureRule
    link: LinkOptions
