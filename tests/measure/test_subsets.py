"""H of sub-ecosystems (leave one out, H by ensemble size) in one product equals H of each subset's own table."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monoculture.count.table import Counts
from monoculture.measure import metrics


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 7), st.integers(1, 40), st.integers(0, 2**32 - 1), st.booleans())
def test_subset_homogenization_equals_each_subsets_own(k, rows, seed, batch):
    rng = np.random.default_rng(seed)
    fail = rng.random((rows, k)) < rng.uniform(0.05, 0.9, k)
    weights = rng.integers(0, 4, (3, rows) if batch else rows).astype(float)
    c = Counts(fail, np.ones_like(fail), weights)
    subsets = rng.random((6, k)) < 0.6
    subsets[:, 0] = True  # no empty subset
    got = metrics.homogenization_of_subsets(c, subsets)
    for s, chosen in enumerate(subsets):
        want = metrics.homogenization(Counts(fail[:, chosen], np.ones_like(fail[:, chosen]), weights))
        np.testing.assert_allclose(got[..., s], want, rtol=1e-9, equal_nan=True)
