"""The streaming link (one input at a time, dense IDs) must equal the in-memory link on the same inputs:
the same failure matrix, cells, coverage, whole-input counts and linked IDs, whatever the inputs' ID ranges
(the per-individual arrays grow at either end), duplicates, missing values, group conflicts and rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monoculture
from monoculture.failures import FailureRule
from monoculture.link import Linked, LinkOptions, link, link_streaming
from monoculture.sources import People, Source

RULES = [
    FailureRule("error"),
    FailureRule("outcome"),
    FailureRule("false-negative"),
    FailureRule("error", top_fraction=0.4),
    FailureRule("outcome", threshold=0.5),
]


def _ids(numbers: np.ndarray, form: str) -> pa.Array:
    if form == "int":
        return pa.array(numbers.tolist(), pa.int64())
    return pa.array([f"p{v:06d}" for v in numbers.tolist()], pa.string())


@st.composite
def ecosystems(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = draw(st.integers(2, 4))
    form = draw(st.sampled_from(["int", "text"]))
    messy = draw(st.booleans())  # missing values, duplicates and conflicting groups (then dropped)
    people_label = draw(st.booleans())
    with_people = people_label or draw(st.booleans())
    specs = []
    for _ in range(k):
        lo = int(rng.integers(0, 150))
        n = int(rng.integers(5, 120))
        numbers = lo + rng.choice(200, n, replace=False)
        if messy and n > 3:
            numbers[-1] = numbers[0]  # a duplicate ID
        decision = rng.integers(0, 2, n).astype(object)
        label = rng.integers(0, 2, n).astype(object)
        score = rng.random(n).round(2)
        group = rng.choice(["a", "b", "c"], n).astype(object)
        if messy:
            decision[rng.random(n) < 0.1] = None
            group[rng.random(n) < 0.1] = None
        specs.append((numbers, decision, label, score, group))
    # Starting inside the sources' range, so the streaming link's arrays must grow at both ends.
    start = int(rng.integers(100, 200))
    people_numbers = np.arange(start, start + 150) if with_people else None
    rule = draw(st.sampled_from(RULES))
    join = draw(st.sampled_from(["inner", "outer"]))
    return specs, form, messy, people_label, people_numbers, rule, join, seed


def _sources(specs, form: str, with_label: bool, rule: FailureRule) -> list[Source]:
    out = []
    for i, (numbers, decision, label, score, group) in enumerate(specs):
        out.append(Source(
            name=f"dm{i}", file=f"dm{i}.csv", ids=pa.chunked_array([_ids(numbers, form)]),
            decision=pa.chunked_array([pa.array(score if rule.uses_scores else decision.tolist())]),
            label=pa.chunked_array([pa.array(label.tolist())]) if with_label else None,
            groups={"g": pa.chunked_array([pa.array(group.tolist(), pa.string())])},
        ))
    return out


def _people(numbers: np.ndarray | None, form: str, seed: int) -> People | None:
    if numbers is None:
        return None
    rng = np.random.default_rng(seed + 1)
    return People(file="people.csv", ids=pa.chunked_array([_ids(numbers, form)]),
                  groups={"h": pa.chunked_array([pa.array(rng.choice(["u", "v"], len(numbers)).tolist())])},
                  label=pa.chunked_array([pa.array(rng.integers(0, 2, len(numbers)).tolist())]),
                  rows=len(numbers))


def _summary(linked: Linked) -> dict:
    # Rows in ID order, so the two links' row orders (both by code) compare through the IDs themselves.
    ids = np.array(linked.ids.text(np.ones(len(linked.cell), dtype=bool)))
    order = np.argsort(ids, kind="stable")
    return {
        "ids": ids[order].tolist(),
        "fail": linked.fail[order].tolist(),
        "present": linked.present[order].tolist(),
        "cells": [linked.cell_labels[c] for c in linked.cell[order]],
        "cell_labels": linked.cell_labels,
        "coverage": dataclasses.asdict(linked.coverage),
        "input_counts": linked.input_counts.tolist(),
        "rule": linked.rule.description,
    }


@settings(max_examples=150, deadline=None)
@given(ecosystems())
def test_streaming_link_equals_the_in_memory_link(eco):
    specs, form, messy, people_label, people_numbers, rule, join, seed = eco
    with_label = not people_label
    options = LinkOptions(join=join, on_duplicate="drop" if messy else "error",
                          on_missing="drop" if messy else "error",
                          on_group_conflict="missing")
    attributes = ["g", "h"] if people_numbers is not None else ["g"]
    names = [f"dm{i}" for i in range(len(specs))]

    def run_memory():
        return link(_sources(specs, form, with_label, rule), _people(people_numbers, form, seed), rule,
                    attributes, options)

    def run_streaming():
        loaders = [lambda i=i: _sources(specs, form, with_label, rule)[i] for i in range(len(specs))]
        return link_streaming(loaders, names, _people(people_numbers, form, seed), rule, attributes, options)

    try:
        expected = _summary(run_memory())
    except monoculture.MonocultureError as exc:
        with pytest.raises(type(exc)) as raised:
            run_streaming()
        assert str(raised.value) == str(exc)
        return
    streamed = run_streaming()
    assert streamed is not None
    assert _summary(streamed) == expected


def test_ids_of_another_form_fall_back_to_the_in_memory_link(tmp_path: Path):
    """A later input whose IDs are padded differently cannot code densely: the audit reads again and links
    by hashing, with the result of linking the canonical text."""
    rows = {"a": [("p001", 1, 1), ("p002", 0, 1), ("p003", 1, 0)],
            "b": [("p001", 1, 1), ("p02", 0, 0), ("p003", 0, 0)]}
    paths = []
    for name, data in rows.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("id,decision,label\n" + "".join(f"{i},{d},{y}\n" for i, d, y in data))
        paths.append(str(path))
    stages: list[str] = []
    result = monoculture.audit(paths, label="label", on_stage=stages.append)
    assert any("again" in s for s in stages)
    assert result.coverage.linked == 2  # p001 and p003; "p02" is not "p002"
    assert result.coverage.sources[1].not_linked == 1


def test_streaming_is_tried_only_when_the_first_ids_code_densely(tmp_path):
    """A few rows of the first input decide whether to stream, so IDs that cannot (pseudonymised tokens)
    are read once, not read by the stream, given up on and read again."""
    import gzip
    import os
    import threading

    import pyarrow.parquet as pq

    from monoculture.io import head_column
    from monoculture.pipeline import _ids_may_code_densely

    dense = "id,decision\n" + "".join(f"p{i:06d},{i % 2}\n" for i in range(3000))
    tokens = "id,decision\n" + "".join(f"{i:064x},{i % 2}\n".replace("0", "f", 3) for i in range(3000))
    (tmp_path / "d.csv").write_text(dense)
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(tokens.encode()))
    pq.write_table(pa.table({"id": [f"{i:064x}" for i in range(3000)], "decision": [1] * 3000}),
                   tmp_path / "t.parquet")
    assert len(head_column(str(tmp_path / "d.csv"), "id")) == 1024
    assert head_column(str(tmp_path / "d.csv"), "missing") is None
    assert _ids_may_code_densely(str(tmp_path / "d.csv"), "id")
    assert not _ids_may_code_densely(str(tmp_path / "t.csv.gz"), "id")
    assert not _ids_may_code_densely(str(tmp_path / "t.parquet"), "id")
    assert _ids_may_code_densely(str(tmp_path / "missing.csv"), "id")  # the full read reports it
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(tokens), daemon=True)
    writer.start()
    assert not _ids_may_code_densely(str(fifo), "id")
    writer.join(timeout=10)
    stages: list[str] = []
    (tmp_path / "t2.csv").write_text(tokens)
    monoculture.audit([str(tmp_path / "t.csv.gz"), str(tmp_path / "t2.csv")], failure="outcome",
                      unfavorable="0", on_stage=stages.append)
    assert not any("one at a time" in s or "again" in s for s in stages)
    assert any("every input at once" in s for s in stages)
