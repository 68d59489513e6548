"""The streaming link (one input at a time; dense IDs, or fixed-width text IDs through fingerprints) must
equal the in-memory link on the same inputs:
the same failure matrix, cells, coverage, whole-input counts and linked IDs, whatever the inputs' ID ranges
(the per-individual arrays grow at either end), duplicates, missing values, group conflicts and rules."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monoculture
from monoculture.link.linked import Linked
from monoculture.link.linking import link, link_streaming
from monoculture.link.stream_ids import PrintStream
from monoculture.read.fingerprints import PrintTable
from monoculture.read.sources import People, Source
from monoculture.spec import FailureRule, LinkOptions
from profiles import examples

RULES = [
    FailureRule("error"),
    FailureRule("outcome"),
    FailureRule("false-negative"),
    FailureRule("error", top_fraction=0.4),
    FailureRule("outcome", threshold=0.5),
]


TOKENS = {"token": lambda v: hashlib.sha1(str(v).encode()).hexdigest()[:13],  # 13 bytes: padded to 16
          "uuid": lambda v: str(uuid.UUID(int=v * 2654435761))}  # 36 bytes


def _ids(numbers: np.ndarray, form: str) -> pa.Array:
    if form == "int":
        return pa.array(numbers.tolist(), pa.int64())
    if form in TOKENS:
        return pa.array([TOKENS[form](v) for v in numbers.tolist()], pa.string())
    return pa.array([f"p{v:06d}" for v in numbers.tolist()], pa.string())


@st.composite
def ecosystems(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = draw(st.integers(2, 4))
    form = draw(st.sampled_from(["int", "text", *TOKENS]))
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


@settings(max_examples=examples(150), deadline=None)
@given(ecosystems(), st.integers(1, 3))
def test_streaming_link_equals_the_in_memory_link(eco, read_ahead):
    """Whatever the number of inputs read at once beside the one being linked."""
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
        return link_streaming(loaders, names, _people(people_numbers, form, seed), rule, attributes, options,
                              coder=PrintStream() if form in TOKENS else None, read_ahead=read_ahead)

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


def test_the_first_ids_choose_how_the_inputs_stream(tmp_path):
    """A few rows of the first input decide whether and how to stream: dense IDs by their numbers,
    fixed-width tokens (pseudonymised IDs) by fingerprints; IDs of varying width are read all at once, not
    read by the stream, given up on and read again."""
    import gzip
    import os
    import threading

    import pyarrow.parquet as pq

    from monoculture.link.load import _stream_coder
    from monoculture.link.stream_ids import DenseStream
    from monoculture.read.files import head_column

    dense = "id,decision\n" + "".join(f"p{i:06d},{i % 2}\n" for i in range(3000))
    tokens = "id,decision\n" + "".join(f"{i:064x},{i % 2}\n".replace("0", "f", 3) for i in range(3000))
    names = "id,decision\n" + "".join(f"name{i},{i % 2}\n" for i in range(3000))
    (tmp_path / "d.csv").write_text(dense)
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(tokens.encode()))
    (tmp_path / "n.csv").write_text(names)
    pq.write_table(pa.table({"id": [f"{i:064x}" for i in range(3000)], "decision": [1] * 3000}),
                   tmp_path / "t.parquet")
    assert len(head_column(str(tmp_path / "d.csv"), "id")) == 1024
    assert head_column(str(tmp_path / "d.csv"), "missing") is None
    assert isinstance(_stream_coder(str(tmp_path / "d.csv"), "id"), DenseStream)
    assert isinstance(_stream_coder(str(tmp_path / "t.csv.gz"), "id"), PrintStream)
    assert isinstance(_stream_coder(str(tmp_path / "t.parquet"), "id"), PrintStream)
    assert _stream_coder(str(tmp_path / "n.csv"), "id") is None
    assert isinstance(_stream_coder(str(tmp_path / "missing.csv"), "id"), DenseStream)  # the full read says
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(names), daemon=True)
    writer.start()
    assert _stream_coder(str(fifo), "id") is None
    writer.join(timeout=10)

    def stages_of(paths: list[Path]) -> list[str]:
        stages: list[str] = []
        monoculture.audit([str(p) for p in paths], failure="outcome", unfavorable="0", on_stage=stages.append)
        return stages

    (tmp_path / "t2.csv").write_text(tokens)
    stages = stages_of([tmp_path / "t.csv.gz", tmp_path / "t2.csv"])
    assert any("one at a time (fingerprinted IDs)" in s for s in stages)
    assert not any("again" in s for s in stages)
    (tmp_path / "n2.csv").write_text(names)
    stages = stages_of([tmp_path / "n.csv", tmp_path / "n2.csv"])
    assert not any("one at a time" in s or "again" in s for s in stages)
    assert any("every input at once" in s for s in stages)


@pytest.mark.parametrize("second", [
    ["ab12", "cd345"],  # another width
    ["ab12", " cd3"],  # white space to trim: " cd3" is the ID "cd3"
    ["ab12", "cd3\u00a0"],  # a non-ASCII end, which may be Unicode space
])
def test_fingerprinted_ids_another_input_cannot_share_fall_back_to_memory(tmp_path: Path, second):
    """The stream gives up on an input whose IDs are not of the first input's fixed-width, untrimmed form;
    the audit then links the canonical text in memory, as if it had never streamed."""
    first = ["ab12", "cd34", "ef56"]
    paths = []
    for name, ids in (("a", first), ("b", second)):
        path = tmp_path / f"{name}.csv"
        path.write_text("id,decision\n" + "".join(f"{i},1\n" for i in ids), encoding="utf-8")
        paths.append(str(path))
    stages: list[str] = []
    result = monoculture.audit(paths, failure="outcome", unfavorable="1", join="outer", on_stage=stages.append)
    assert any("fingerprinted" in s for s in stages) and any("again" in s for s in stages)
    trimmed = {i.strip() for i in second}
    assert result.coverage.linked == len(set(first) & trimmed)
    assert result.coverage.individuals_seen == len(set(first) | trimmed)


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.lists(st.sampled_from([0, 1, 2, 3, 1024, 2048, -1, 2**63 - 1, -(2**63)])
                         | st.integers(-(2**63), 2**63 - 1), max_size=300), min_size=1, max_size=6))
def test_the_fingerprint_table_finds_what_a_dict_finds(batches):
    """Batch after batch: find every known fingerprint's code, then insert the new ones (deduplicated, as
    the coder does), against a dict. Slots collide on purpose (multiples of 1024 share their low bits) and
    the table grows. 0 marks an empty slot, so to the table 0 and 1 are one key (the byte check after
    coding separates the IDs that would share it); the dict models that."""
    def key(p: int) -> int:
        return 1 if p == 0 else p

    table, truth = PrintTable(), {}
    for batch in batches:
        found = table.find(np.array(batch, dtype=np.int64))
        assert found.tolist() == [truth.get(key(p), -1) for p in batch]
        new = list(dict.fromkeys(key(p) for p in batch if key(p) not in truth))
        table.insert(np.array(new, dtype=np.int64), np.arange(len(truth), len(truth) + len(new)))
        truth.update({p: len(truth) + j for j, p in enumerate(new)})
        assert 2 * table.size <= len(table.slots) and table.size == len(truth)
