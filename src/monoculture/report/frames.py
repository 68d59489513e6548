"""An audit in a notebook: tidy pandas frames of every number, Fairlearn-style per-group tables, a short
repr, the HTML report inline, and saving by file extension. `Audit` is the `AuditResult` that
`monoculture.audit` returns; every frame's numbers are the JSON's (a test checks it)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from ..measure.result import AuditResult, Metric
from .rows import ANSWER_PAIR, COLUMNS, PAIR, tidy_rows
from .text import verdict_sentence

if TYPE_CHECKING:
    import pandas as pd

# `by_group`'s numbers, as the JSON names them (H beyond difficulty is `rasch.homogenization` there).
GROUP_METRICS = ("systemic_failure", "expected_systemic_failure", "homogenization", "share_of_population",
                 "share_of_systemic_failures", "consistent_success")


def _with_ci(out: dict[str, Any], name: str, m: Metric | None) -> None:
    """`name`, `name_ci_low`, `name_ci_high` from a Metric (None: undefined or not computed)."""
    out[name] = None if m is None else m.value
    out[f"{name}_ci_low"] = m.ci[0] if m is not None and m.ci else None
    out[f"{name}_ci_high"] = m.ci[1] if m is not None and m.ci else None


@dataclass(repr=False)
class Audit(AuditResult):
    """The result of `monoculture.audit`: every field of `AuditResult` (the JSON report's), plus frames."""

    @classmethod
    def of(cls, result: AuditResult) -> Audit:
        return cls(**{f.name: getattr(result, f.name) for f in fields(AuditResult)})

    def to_frame(self) -> pd.DataFrame:
        """Every number as one row: scope, attribute, group, metric, decision_maker, failures, value, ci_low,
        ci_high, p_value, p_adjusted, note (the CSV report's rows)."""
        import pandas as pd

        return pd.DataFrame(list(tidy_rows(self)), columns=list(COLUMNS))

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per group, indexed by (attribute, group): n and the group's numbers, each with
        ``_ci_low``/``_ci_high``; ``homogenization_beyond_difficulty`` where the Rasch null was fitted.
        Suppressed groups are left out (their numbers are withheld)."""
        import pandas as pd

        rows = []
        for g in self.groups:
            if g.suppressed:
                continue
            row: dict[str, Any] = {"attribute": g.attribute, "group": g.group, "n": g.n}
            for name in GROUP_METRICS:
                _with_ci(row, name, getattr(g, name))
            _with_ci(row, "homogenization_beyond_difficulty", g.rasch.homogenization if g.rasch else None)
            if g.answers is not None:
                _with_ci(row, "same_wrong_answer", g.answers.same_wrong_answer)
            rows.append(row)
        frame = pd.DataFrame(rows)
        return frame.set_index(["attribute", "group"]) if rows else frame

    @property
    def pairwise(self) -> pd.DataFrame:
        """One row per pair of decision-makers (a, b, n, each pairwise measure with its interval)."""
        import pandas as pd

        rows = []
        for p in self.overall.pairwise:
            row: dict[str, Any] = {"a": p.a, "b": p.b, "n": p.n}
            for name in (*PAIR, *ANSWER_PAIR):
                if getattr(p, name, None) is not None or name in PAIR:
                    _with_ci(row, name, getattr(p, name))
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def decision_makers_frame(self) -> pd.DataFrame:
        """One row per decision-maker: n, its failure rate (linked and over its own input), recourse."""
        import pandas as pd

        rows = []
        for d in self.decision_makers:
            row: dict[str, Any] = {"decision_maker": d.name, "n": d.n, "input_rows": d.input_rows}
            for name in ("failure_rate", "input_failure_rate", "recourse", "expected_recourse"):
                _with_ci(row, name, getattr(d, name))
            rows.append(row)
        return pd.DataFrame(rows).set_index("decision_maker")

    def difference(self) -> pd.DataFrame:
        """Per attribute, the largest minus the smallest value over its groups, for each `by_group` number
        (as MetricFrame's ``difference(method="between_groups")``)."""
        table = self.by_group[[m for m in GROUP_METRICS if m != "share_of_population"]]
        grouped = table.groupby(level="attribute")
        return grouped.max() - grouped.min()

    def ratio(self) -> pd.DataFrame:
        """Per attribute, the smallest over the largest value over its groups (1 = equal across groups)."""
        table = self.by_group[[m for m in GROUP_METRICS if m != "share_of_population"]]
        grouped = table.groupby(level="attribute")
        return grouped.min() / grouped.max()

    def save(self, path: str | os.PathLike, format: str | None = None) -> str:
        """Write the report, its format from `format` or the file's extension (.json, .html, .md, .csv, .jsonl,
        .xml for JUnit, .txt for the terminal table); returns the path."""
        from . import EXTENSIONS, Format, render

        path = os.fspath(path)
        fmt = Format(format) if format else EXTENSIONS.get(os.path.splitext(path)[1].lower())
        if fmt is None:
            raise ValueError(f"cannot tell the format of {path!r} from its extension: pass format=")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(render(self, fmt))
        return path

    def _repr_html_(self) -> str:
        from .html import render_html

        return render_html(self)

    def __repr__(self) -> str:
        o = self.overall
        h = o.homogenization
        lines = [f"<monoculture audit: {len(self.decision_makers)} decision-makers, {o.n:,} linked individuals, "
                 f"{self.join} join>",
                 verdict_sentence(self),
                 f"S = {o.systemic_failure.value!r}, S_ind = {o.expected_systemic_failure.value!r}, "
                 f"H = {h.value!r}" + (f" [{h.ci[0]:.4g}, {h.ci[1]:.4g}]" if h.ci else ""),
                 "frames: .to_frame(), .by_group, .pairwise, .decision_makers_frame; .save('audit.html')"]
        return "\n".join(lines)
