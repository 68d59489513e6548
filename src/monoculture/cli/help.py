"""Help that guides: every command's options in panels, most-used first, with plain metavars and examples.

Typer's plain help (the app renders without rich, for start-up time) lists every option in one block with
its Python type (`<int>`, `<list[str]>`). `PanelCommand` groups them by `PANELS` and names what an option
takes (COLUMN, FILE, N) instead.
"""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.core import TyperCommand

LENDERS = "sample_data/lender_a.csv sample_data/lender_b.csv sample_data/lender_c.parquet"  # for the examples

# Panels in the order a reader looks for them; a command's own panel comes right after Inputs.
ORDER = ("Inputs", "Failure rule", "Groups", "Intervals and tests", "Output", "Gates", "Rows and linking",
         "Scale")
PANELS: dict[str, tuple[str, ...]] = {
    "Inputs": ("id_column", "decision", "label", "score", "probabilities", "people", "people_id", "layout",
               "decision_columns", "decision_maker_column", "delimiter", "metric", "patterns", "round_column",
               "round_order", "config"),
    "Failure rule": ("failure", "favorable", "unfavorable", "favorable_decision", "favorable_label",
                     "unfavorable_decision", "unfavorable_label", "threshold", "top_fraction", "lower_is_favorable",
                     "population", "answers", "options", "options_column"),
    "Groups": ("group", "intersect", "min_group_size", "suppress_below", "strata", "components"),
    "Intervals and tests": ("bootstrap", "seed", "alpha", "ci", "permutations", "adjust", "pair_intervals",
                            "parity"),
    "Output": ("output_format", "output", "width", "no_color", "quiet", "debug", "verbose", "emit_ids", "github"),
    "Gates": ("max_homogenization", "max_systemic_failure", "max_group_systemic_failure_ratio", "gate_on",
              "exit_zero"),
    "Rows and linking": ("duplicates", "drop_missing", "join", "group_conflicts", "missing_decision"),
    "Scale": ("engine", "memory_limit", "spark_master", "id_shards", "emit_sql", "sql_dialect"),
    "Multiplicity and LDA": ("epsilon", "lda_epsilon", "fpr_weight", "baseline", "arbitrary_threshold", "utility",
                             "disparity", "split", "select_on", "report_on"),
    "Model": ("response", "menu", "quadratic", "features", "target", "loss", "learners", "init", "rounds", "tol",
              "learner_update", "step_size", "l2", "fail_above", "rule", "reinforce", "reinforcement", "urn_size",
              "draws", "cutoff", "replications", "base_rate", "initial_bias", "adverse"),
    "Pseudonymisation": ("key_file", "casefold", "drop", "force"),
}
PANEL_OF = {name: panel for panel, names in PANELS.items() for name in names}
# What an option takes, where its type alone would say only "str".
METAVARS = {"id_column": "COLUMN", "decision": "COLUMN", "label": "COLUMN", "group": "COLUMN", "people_id": "COLUMN",
            "decision_columns": "COLUMN", "decision_maker_column": "COLUMN", "score": "COLUMN", "strata": "COLUMN",
            "components": "COLUMN", "round_column": "COLUMN", "options_column": "COLUMN", "split": "COLUMN",
            "target": "COLUMN",
            "features": "COLUMNS", "people": "FILE", "output": "FILE", "config": "FILE", "patterns": "FILE",
            "emit_ids": "FILE", "quadratic": "FILE", "init": "random|uniform|FILE", "threshold": "T|NAME=T",
            "favorable": "VALUE", "unfavorable": "VALUE", "favorable_decision": "VALUE",
            "favorable_label": "VALUE", "unfavorable_decision": "VALUE", "unfavorable_label": "VALUE",
            "adverse": "VALUE", "baseline": "NAME", "select_on": "VALUE", "report_on": "VALUE",
            "memory_limit": "SIZE", "spark_master": "URL", "metric": "NAME", "delimiter": "CHAR",
            "top_fraction": "Q", "inputs": "FILE", "response": "auto|refit|frozen|menu", "source": "FILE",
            "drop": "COLUMN", "key_file": "FILE"}
_TYPE = re.compile(r" <([^>]+)>")


def _metavar(param: Any, label: str) -> str:
    if param.name in METAVARS:
        return METAVARS[param.name]
    label = re.sub(r"^list\[(.*)\]$", r"\1", label)
    if "|" in label:
        return label
    if label.startswith("int"):
        return "N"
    if label.startswith("float"):
        return "X"
    if label in ("path", "file", "directory"):
        return "FILE"
    return "TEXT"


def plain(param: Any, record: str) -> str:
    """The option's left column with what it takes in words: `--min-group-size N`, not `<int>`."""
    return _TYPE.sub(lambda m: " " + _metavar(param, m.group(1)), record)


class PanelCommand(TyperCommand):
    """A command whose help lists its options by panel (`PANELS`), then any others."""

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:  # Typer's own (vendored) click types
        sections: dict[str, list[tuple[str, str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                panel = "Arguments"
            else:
                panel = getattr(param, "rich_help_panel", None) or PANEL_OF.get(param.name or "", "Other options")
            sections.setdefault(panel, []).append((plain(param, record[0]), record[1], param.name or ""))
        own = [p for p in sections if p not in ORDER and p not in ("Arguments", "Other options")]
        order = ["Arguments", "Inputs", *own, *ORDER[1:], "Other options"]
        for panel in order:
            if panel in sections:
                listed = PANELS.get(panel, ())  # most-used first, as the panel lists them
                rows = sorted(sections[panel], key=lambda r: listed.index(r[2]) if r[2] in listed else len(listed))
                with formatter.section(panel):
                    formatter.write_dl([(left, text) for left, text, _ in rows])


def examples(*commands: str) -> str:
    """An epilog of example command lines, kept as written (click rewraps paragraphs not marked with \\b)."""
    return "\b\nExamples:\n" + "\n".join(f"  {c}" for c in commands)
