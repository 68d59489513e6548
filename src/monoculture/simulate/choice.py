"""Participation dynamics seeded from an audit's prediction files (metrics.md §8, response modes).

An audit gives the group shares β_g and, for each prediction file c, its failure rate in each subpopulation,
R[g, c]. What it cannot give is how a decision-maker changes when its users change; two answers need no
model of retraining:

- ``frozen``: every decision-maker keeps its predictions; only people move (towards the decision-makers that
  fail them least).
- ``menu``: each decision-maker offers several prediction files (candidate models) and, every round, deploys
  the one with the lowest failure rate among its current users. Choosing the best of a menu and the
  multiplicative-weights update both lower the total risk, so it never rises (tested).

Both are the core dynamics (`core.run`) with θ a one-hot choice of prediction file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..count.table import PatternTable, cell_name
from ..errors import UsageError
from ..link.load import load_and_link
from ..measure.metrics.groups import group_shares_and_rates
from ..spec import AuditSpec
from .risks import NOBODY


@dataclass(frozen=True)
class ChoiceRisks:
    """R_g(θ) = R[g, c] for θ the one-hot choice of prediction file c.

    `owner[c]` is the decision-maker offering file c. A learner's fit picks, among the files its owner
    offers (the owner of the file it deploys now), the one with the lowest risk for its users' weights;
    ties keep the file deployed (then the first offered). From no file at all (θ = 0, the single learner
    serving everyone) it picks among every file.
    """

    table: np.ndarray  # (G, C) failure rate of each prediction file in each subpopulation
    owner: np.ndarray  # (C,) decision-maker index

    @property
    def dim(self) -> int:
        return int(self.table.shape[1])

    def risks(self, theta: np.ndarray) -> np.ndarray:
        return self.table @ theta

    def minimise(self, w: np.ndarray, start: np.ndarray) -> np.ndarray:
        if not start.any():  # no file yet: the single learner serving everyone picks among them all
            return np.eye(self.dim)[int(np.argmin(w @ self.table))]
        if w.sum() < NOBODY:
            return start
        current = int(np.argmax(start))
        cost = np.where(self.owner == self.owner[current], w @ self.table, np.inf)
        return np.eye(self.dim)[current if cost[current] <= cost.min() else int(np.argmin(cost))]

    def gradient(self, w: np.ndarray, theta: np.ndarray) -> np.ndarray:
        raise UsageError("frozen and menu responses choose among fixed prediction files: use "
                         "{simulate.learner_update} exact")


@dataclass(frozen=True)
class Choices:
    """What a frozen or menu setting adds: the prediction files, who offers each, and their pattern table."""

    response: str
    files: list[str]  # the inputs' names, in input order
    learners: list[str]  # the decision-makers
    menus: dict[str, list[str]]  # decision-maker → the files it offers, in input order
    table: PatternTable  # the linked people's failures under every file, by subpopulation cell
    rule: str  # the failure rule, as the audit words it
    start: np.ndarray  # (k, C) each decision-maker's first deployed file, one-hot

    def failures_table(self, thetas: np.ndarray) -> PatternTable:
        """The pattern table of the files the learners deploy (θ one-hot), named after the learners."""
        chosen = thetas.argmax(axis=1)
        t = self.table
        return PatternTable.from_matrix(self.learners, t.fail[t.row_pattern][:, chosen],
                                        t.present[t.row_pattern][:, chosen], t.row_cell, t.cell_labels,
                                        t.attributes, weights=t.row_count)

    def deployed(self, thetas: np.ndarray) -> list[str]:
        return [self.files[int(c)] for c in thetas.argmax(axis=1)]


def menus_of(files: Sequence[str], response: str, menus: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Each decision-maker's files: one each (frozen), or as `menus` gives them (every file in one menu)."""
    if response == "frozen":
        if menus:
            raise UsageError("{simulate.menu} offers decision-makers several files: that is --response menu")
        return {f: [f] for f in files}
    if not menus:
        raise UsageError("--response menu needs the files each decision-maker offers: {simulate.menu} "
                         "NAME=FILE1,FILE2 (input names), once per decision-maker")
    owner: dict[str, str] = {}
    for dm, offered in menus.items():
        for f in offered:
            if f not in files:
                raise UsageError(f"{{simulate.menu}} {dm} offers '{f}', which is not among the inputs "
                                 f"({', '.join(files)})")
            if f in owner:
                raise UsageError(f"{{simulate.menu}}: '{f}' is offered by {owner[f]} and {dm}; a file is one "
                                 "decision-maker's")
            owner[f] = dm
    left = [f for f in files if f not in owner]
    if left:
        raise UsageError(f"{{simulate.menu}}: no decision-maker offers '{left[0]}'; put every input in a menu")
    return {dm: [f for f in files if owner[f] == dm] for dm in menus}


def choice_setting(spec: AuditSpec, response: str, menus: Mapping[str, Sequence[str]] | None = None,
                   on_stage: Callable[[str], None] = lambda _name: None):
    """The `Setting` of a frozen or menu simulation from an audit's inputs: subpopulations are the cells of
    the `--group` attributes among the linked people, R[g, c] each file's failure rate in cell g."""
    from .participation import Setting  # participation imports this module for `dynamics`

    if response not in ("frozen", "menu"):
        raise UsageError(f"{{simulate.response}} must be frozen or menu with prediction files; got '{response}'")
    if not spec.columns.groups:
        raise UsageError("name the subpopulation column with {simulate.group}")
    if spec.link.join != "inner":
        raise UsageError("the dynamics compare files on the same people: use the inner join")
    linked, _ = load_and_link(spec, on_stage=on_stage)
    on_stage("running the dynamics")
    table = PatternTable.build(linked)
    names = list(table.names)
    offered = menus_of(names, response, menus or {})
    learners = list(offered)
    owner = np.array([learners.index(next(d for d, fs in offered.items() if f in fs)) for f in names])
    cell_rows = np.arange(len(table.cell_labels))[:, None] == table.row_cell[None, :]
    _, rates, sizes = group_shares_and_rates(table.counts(), cell_rows.astype(float))
    used = sizes > 0
    rates = rates[used]
    groups = [cell_name(table.attributes, c) for c, u in zip(table.cell_labels, used, strict=True) if u]
    start = np.zeros((len(learners), len(names)))
    for i, dm in enumerate(learners):
        start[i, names.index(offered[dm][0])] = 1.0
    choices = Choices(response, names, learners, offered, table, linked.rule.description, start)
    return Setting(risks=ChoiceRisks(rates, owner), groups=groups, beta=sizes[used] / sizes[used].sum(), alphas=None,
                   kind=response, loss="failure rate", features=[], rows=int(sizes.sum()), choices=choices,
                   warnings=list(linked.warnings))
