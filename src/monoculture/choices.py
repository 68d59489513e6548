"""The values each option of an audit may take (the spec checks them; the CLI offers them)."""

LAYOUTS = ("files", "wide", "stacked", "transposed", "helm", "eee", "lm-eval")
EVAL_LAYOUTS = ("helm", "eee", "lm-eval")  # evaluation logs, read as their tools write them
JOINS = ("inner", "outer")
ON_DUPLICATE = ("error", "drop")
ON_MISSING = ("error", "drop")
MISSING_DECISION = ("error", "drop", "fail")
ANSWERS = ("auto", "on", "off")
ON_GROUP_CONFLICT = ("error", "missing")
FAILURE_KINDS = ("error", "outcome", "false-negative", "false-positive")
POPULATIONS = ("can-fail", "everyone")
CI_METHODS = ("percentile", "bca")
ADJUSTMENTS = ("holm", "bh", "none")
PAIR_INTERVALS = ("auto", "all", "none")
PAIR_INTERVALS_MAX = 1225  # pairs (50 decision-makers): beyond it `auto` gives pairs point values only
PARITY_MODES = ("bommasani2022",)
GATE_ON = ("point", "ci")
ENGINES = ("auto", "memory", "duckdb", "spark")
