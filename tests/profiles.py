"""How hard the suite tries: the fast loop before each commit (default) or everything, as CI runs it.

`MONOCULTURE_TESTS=all` (set by .ci/run) selects the `ci` Hypothesis profile and full example counts;
otherwise the `dev` profile runs each property on a quarter of its examples (at least 10).
"""

from __future__ import annotations

import os

FULL = os.environ.get("MONOCULTURE_TESTS") == "all"


def examples(n: int) -> int:
    """The examples a property test runs: `n` in CI, a quarter (at least 10) in the fast loop."""
    return n if FULL else min(n, max(10, n // 4))


def repeats(n: int) -> int:
    """How often a test repeats a run to catch a rare failure: `n` in CI, 3 in the fast loop."""
    return n if FULL else min(n, 3)
