"""The streaming link (one input at a time; dense numbers, sparse numbers, or any text through
fingerprints, moving between them as inputs need) must equal the in-memory link on the same inputs:
the same failure matrix, cells, coverage, whole-input counts and linked IDs, whatever the inputs' ID ranges
(the per-individual arrays grow at either end), duplicates, missing values, group conflicts and rules."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import uuid
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monoculture
from monoculture.link import id_codes, stream_ids
from monoculture.link.linked import Linked
from monoculture.link.linking import link, link_streaming
from monoculture.link.stream_ids import IdStream
from monoculture.read import fingerprints, text_table
from monoculture.read.fingerprints import PrintTable
from monoculture.read.memory import StreamingPlan
from monoculture.read.sources import People, Source
from monoculture.spec import FailureRule, InferenceOptions, LinkOptions
from profiles import examples

RULES = [
    FailureRule("error"),
    FailureRule("outcome"),
    FailureRule("false-negative"),
    FailureRule("error", top_fraction=0.4),
    FailureRule("outcome", threshold=0.5),
]


TOKENS = {"token": lambda v: hashlib.sha1(str(v).encode()).hexdigest()[:13],  # 13 bytes: padded to 16
          "uuid": lambda v: str(uuid.UUID(int=v * 2654435761)),  # 36 bytes
          "name": lambda v: "n" * (v % 7) + f"{v}x" * (1 + v % 3)}  # of many widths
# Each family writes the same individual v with the same canonical text (`ids.as_text`) in every form, so
# inputs of one family drawn in different forms link; the stream moves between routes to follow them.
FAMILIES = {
    "int": ["int", "plain", "plain_ws"],  # 7, "7", " 7 ": integers and their text
    "text": ["text", "text_ws", "sparse_text"],  # "p000007" (a sparse form shares none of these)
    "sparse": ["sparse", "sparse_text"],  # spread far beyond a dense range
    "token": ["token"], "uuid": ["uuid"], "name": ["name", "name_ws"],
}
_STRONG = fingerprints.fingerprint
SPREAD = 10_000_019  # sparse numbers: v * SPREAD overflows any dense range of a few hundred IDs


def _ids(numbers: np.ndarray, form: str) -> pa.Array:
    values = numbers.tolist()
    if form == "int":
        return pa.array(values, pa.int64())
    if form == "sparse":
        return pa.array([v * SPREAD for v in values], pa.int64())
    if form == "sparse_text":
        return pa.array([f"q{v * SPREAD:012d}" for v in values], pa.string())
    if form in ("plain", "plain_ws"):
        return pa.array([f" {v}\t" if form == "plain_ws" else str(v) for v in values], pa.string())
    if form.startswith("name"):
        return pa.array([(" " if form == "name_ws" else "") + TOKENS["name"](v) for v in values], pa.string())
    if form in TOKENS:
        return pa.array([TOKENS[form](v) for v in values], pa.string())
    return pa.array([f"{' ' if form == 'text_ws' else ''}p{v:06d}" for v in values], pa.string())


@st.composite
def ecosystems(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = draw(st.integers(2, 4))
    family = FAMILIES[draw(st.sampled_from(sorted(FAMILIES)))]
    form = [draw(st.sampled_from(family)) for _ in range(k + 1)]  # each input's, then the people file's
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
            name=f"dm{i}", file=f"dm{i}.csv", ids=pa.chunked_array([_ids(numbers, form[i])]),
            decision=pa.chunked_array([pa.array(score if rule.uses_scores else decision.tolist())]),
            label=pa.chunked_array([pa.array(label.tolist())]) if with_label else None,
            groups={"g": pa.chunked_array([pa.array(group.tolist(), pa.string())])},
        ))
    return out


def _people(numbers: np.ndarray | None, form: str, seed: int) -> People | None:
    if numbers is None:
        return None
    rng = np.random.default_rng(seed + 1)
    return People(file="people.csv", ids=pa.chunked_array([_ids(numbers, form[-1])]),
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


@settings(max_examples=examples(200), deadline=None)
@given(ecosystems(), st.integers(1, 3), st.sampled_from(["dense", "text"]), st.sampled_from(["as is", "tight",
                                                                                            "collide"]),
       st.sampled_from(["c", "numpy"]))
def test_streaming_link_equals_the_in_memory_link(eco, read_ahead, start, limits, table):
    """Whatever the number of inputs read at once beside the one being linked, the route the stream starts
    on, the forms the inputs write their IDs in, and the coder of text (`table`: the compiled hash table,
    or the NumPy fingerprints of a build without a compiler); it never gives up but where it must.

    `limits`: as shipped; "tight", where a few hundred IDs already outgrow dense codes and the numbers'
    lookup (so the routes move, and the lookup hands its codes to the hash table, on small inputs), and the
    C table codes five rows a call; or
    "collide", where every hash keeps 2 bits, so IDs share them all the time: the C table compares bytes and
    goes on; the fingerprints' byte check catches each, and the stream then gives up, for the in-memory link
    to code the text."""
    if table == "c" and not text_table.AVAILABLE:
        return
    patches = {"as is": [], "tight": [(id_codes, "_DENSE_FLOOR", 8), (stream_ids, "LOOKUP_SPAN", 4),
                                      (stream_ids, "LOOKUP_MAX", 10_000), (text_table, "ROWS_PER_CALL", 5)],
               "collide": [(fingerprints, "fingerprint", lambda w, n=0: _weak(w, n)),
                           (text_table, "HASH_BITS", 2)]}[limits]
    patches = [*patches, (text_table, "AVAILABLE", table == "c")]
    with contextlib.ExitStack() as stack:
        for module, name, value in patches:
            stack.enter_context(mock.patch.object(module, name, value))
        _check_streaming(eco, read_ahead, start, collide=limits == "collide" and table == "numpy")


def _weak(words: np.ndarray, lengths) -> np.ndarray:
    return _STRONG(words, lengths) & np.uint64(3)


def _check_streaming(eco, read_ahead: int, start: str, collide: bool) -> None:
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
        coder = IdStream(start, ordered=rule.top_fraction is not None)
        return link_streaming(loaders, names, _people(people_numbers, form, seed), rule, attributes, options,
                              coder=coder, read_ahead=read_ahead)

    used = form[:len(specs)] + ([form[-1]] if people_numbers is not None else [])
    integers_then_text = bool(set(used) & {"int", "sparse"}) and bool(set(used) - {"int", "sparse"})
    try:
        expected = _summary(run_memory())
    except monoculture.MonocultureError as exc:
        try:
            streamed = run_streaming()
        except monoculture.MonocultureError as raised:
            assert type(raised) is type(exc) and str(raised) == str(exc)
            return
        assert streamed is None and (collide or (rule.top_fraction is not None and integers_then_text))
        return
    streamed = run_streaming()
    if streamed is None:  # fingerprints shared, or integers ordered as numbers (ties) turning out to be text
        assert collide or (rule.top_fraction is not None and integers_then_text)
        return
    assert _summary(streamed) == expected
    assert streamed.coverage.id_type == run_memory().coverage.id_type


def test_ids_of_another_form_move_the_stream_to_text(tmp_path: Path):
    """A later input whose IDs are padded differently cannot code densely: the stream carries the codes so
    far over to their canonical text and links as the in-memory link does, reading nothing twice."""
    rows = {"a": [("p001", 1, 1), ("p002", 0, 1), ("p003", 1, 0)],
            "b": [("p001", 1, 1), ("p02", 0, 0), ("p003", 0, 0)]}
    paths = []
    for name, data in rows.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("id,decision,label\n" + "".join(f"{i},{d},{y}\n" for i, d, y in data))
        paths.append(str(path))
    stages: list[str] = []
    result = monoculture.audit(paths, label="label", on_stage=stages.append)
    assert not any("again" in s for s in stages)
    assert result.coverage.linked == 2  # p001 and p003; "p02" is not "p002"
    assert result.coverage.sources[1].not_linked == 1


def test_the_first_ids_choose_the_route_the_stream_starts_on(tmp_path):
    """A few rows of the first input choose where the stream starts: numbers when they parse as numbers,
    else text; every shape then streams, none is read twice."""
    import gzip
    import os
    import threading

    import pyarrow.parquet as pq

    from monoculture.link.load import _first_route
    from monoculture.read.files import head_column

    dense = "id,decision\n" + "".join(f"p{i:06d},{i % 2}\n" for i in range(3000))
    sparse = "id,decision\n" + "".join(f"p{i * 7919:09d},{i % 2}\n" for i in range(3000))
    tokens = "id,decision\n" + "".join(f"{i:064x},{i % 2}\n".replace("0", "f", 3) for i in range(3000))
    names = "id,decision\n" + "".join(f"name{i},{i % 2}\n" for i in range(3000))
    (tmp_path / "d.csv").write_text(dense)
    (tmp_path / "s.csv").write_text(sparse)
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(tokens.encode()))
    (tmp_path / "n.csv").write_text(names)
    pq.write_table(pa.table({"id": [f"{i:064x}" for i in range(3000)], "decision": [1] * 3000}),
                   tmp_path / "t.parquet")
    assert len(head_column(str(tmp_path / "d.csv"), "id")) == 1024
    assert head_column(str(tmp_path / "d.csv"), "missing") is None
    assert _first_route(str(tmp_path / "d.csv"), "id") == "dense"
    assert _first_route(str(tmp_path / "s.csv"), "id") == "dense"  # moves to numbers at the first input
    assert _first_route(str(tmp_path / "t.csv.gz"), "id") == "text"
    assert _first_route(str(tmp_path / "t.parquet"), "id") == "text"
    assert _first_route(str(tmp_path / "n.csv"), "id") == "text"
    assert _first_route(str(tmp_path / "missing.csv"), "id") == "dense"  # the full read says
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(names), daemon=True)
    writer.start()
    assert _first_route(str(fifo), "id") == "text"  # a pipe is read once and kept: its head too
    writer.join(timeout=10)

    def stages_of(paths: list[Path]) -> list[str]:
        stages: list[str] = []
        monoculture.audit([str(p) for p in paths], failure="outcome", unfavorable="0", on_stage=stages.append)
        return stages

    for first, second, route in (("t.csv.gz", "t2.csv", "text"), ("n.csv", "n2.csv", "text"),
                                 ("s.csv", "s2.csv", "dense")):
        (tmp_path / second).write_text((tmp_path / first.replace(".gz", "")).read_text() if not first.endswith(
            ".gz") else tokens)
        stages = stages_of([tmp_path / first, tmp_path / second])
        assert any(f"one at a time ({route} IDs first)" in s for s in stages), stages
        assert not any("again" in s or "at once" in s for s in stages), stages


@pytest.mark.parametrize("second", [
    ["ab12", "cd345"],  # another width
    ["ab12", " cd3"],  # white space to trim: " cd3" is the ID "cd3"
    ["ab12", "cd3\u00a0"],  # a non-ASCII end, which may be Unicode space
    ["1", "2", "p01"],  # numbers, then text
])
def test_ids_of_other_forms_stream_as_their_canonical_text(tmp_path: Path, second):
    """An input whose IDs are not of the first input's form moves the stream to the canonical text; it
    links as the in-memory link does, without reading any input twice."""
    first = ["ab12", "cd34", "ef56", "1"]
    paths = []
    for name, ids in (("a", first), ("b", second)):
        path = tmp_path / f"{name}.csv"
        path.write_text("id,decision\n" + "".join(f"{i},1\n" for i in ids), encoding="utf-8")
        paths.append(str(path))
    stages: list[str] = []
    result = monoculture.audit(paths, failure="outcome", unfavorable="1", join="outer", on_stage=stages.append)
    assert not any("again" in s for s in stages)
    trimmed = {i.strip() for i in second}
    assert result.coverage.linked == len(set(first) & trimmed)
    assert result.coverage.individuals_seen == len(set(first) | trimmed)


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.lists(st.sampled_from([0, 1, 2, 3, 1024, 2048, -1, 2**63 - 1, -(2**63)])
                         | st.integers(-(2**63), 2**63 - 1), max_size=300), min_size=1, max_size=6))
def test_the_fingerprint_table_finds_what_a_dict_finds(batches):
    """Batch after batch: find every known key's code, then insert the new ones (deduplicated, as the coder
    does), against a dict. Slots collide on purpose (multiples of 1024 share their low bits), the table
    grows, and 0 (the empty-slot mark) is a key like any other."""
    table, truth = PrintTable(), {}
    for batch in batches:
        found = table.find(np.array(batch, dtype=np.int64))
        assert found.tolist() == [truth.get(p, -1) for p in batch]
        new = list(dict.fromkeys(p for p in batch if p not in truth))
        table.insert(np.array(new, dtype=np.int64), np.arange(len(truth), len(truth) + len(new)))
        truth.update({p: len(truth) + j for j, p in enumerate(new)})
        assert 2 * table.size <= len(table.slots) and table.size == len(truth)


@pytest.mark.parametrize("shape", ["hex64", "uuid", "names"])
def test_audit_json_is_byte_identical_on_every_text_route(tmp_path, shape, monkeypatch):
    """Whole audits of text IDs (pseudonyms, UUIDs, names of several widths, missing IDs and a repeated one,
    inputs that overlap in part) give the same JSON bytes through the C table, the C table with every hash
    cut to one bit (IDs share hashes all the time: forced collisions), the NumPy fingerprints, and the
    in-memory link coding the text either way."""
    from monoculture.link import load
    from monoculture.report.json import render_json

    rng = np.random.default_rng(7)
    make = {"hex64": lambda v: hashlib.sha256(str(v).encode()).hexdigest(),
            "uuid": lambda v: str(uuid.UUID(int=v * 2654435761 + 12345)),
            "names": lambda v: "n" * (v % 11) + f"{v}x" * (1 + v % 4)}[shape]
    paths = []
    for i in range(3):
        people = rng.choice(600, 400, replace=False)
        label = rng.integers(0, 2, len(people))
        decision = np.where(rng.random(len(people)) < 0.7, label, 1 - label)
        lines = ["id,decision,label,group"]
        for person, d, y in zip(people.tolist(), decision, label, strict=True):
            lines.append(f"{make(person)},{d},{y},{'ab'[person % 2]}")
        lines.append(lines[5])  # an ID given twice (dropped)
        lines.append(",1,1,a")  # a row without an ID (dropped)
        path = tmp_path / f"dm{i}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(str(path))
    kw = {"label": "label", "groups": ["group"], "on_duplicate": "drop", "on_missing": "drop", "join": "outer",
          "bootstrap": 200, "seed": 3}

    def run() -> tuple[str, list[str]]:
        stages: list[str] = []
        result = monoculture.audit(paths, on_stage=stages.append, **kw)
        return render_json(result), stages

    routes = {}
    if text_table.AVAILABLE:
        routes["c table"] = run()
        monkeypatch.setattr(text_table, "HASH_BITS", 1)
        routes["c table, forced collisions"] = run()
        assert not any("again" in s for s in routes["c table, forced collisions"][1])
        monkeypatch.setattr(text_table, "HASH_BITS", 64)
    built = text_table.AVAILABLE
    monkeypatch.setattr(text_table, "AVAILABLE", False)
    routes["numpy fingerprints"] = run()
    monkeypatch.setattr(load, "link_streaming", lambda *a, **k: None)
    routes["in memory"] = run()
    assert any("again" in s for s in routes["in memory"][1])
    if built:
        monkeypatch.setattr(text_table, "AVAILABLE", True)
        routes["in memory, c table"] = run()
    expected = routes["in memory"][0]
    for name, (got, _stages) in routes.items():
        assert got == expected, name


def test_the_link_keeps_no_view_of_an_inputs_row_codes():
    """Each input's row codes (8 bytes a row) must be let go once it is linked: a view of them kept per
    input (an empty slice is one) held every input's codes to the end, 0.8 GB at 10M × 10."""
    from monoculture.link.linker import Linker

    kept: list[np.ndarray] = []
    finish = Linker.finish

    def finishing(self, *args, **kwargs):
        kept.extend(self.unseen)
        return finish(self, *args, **kwargs)

    sample = Path(__file__).resolve().parents[2] / "sample_data"
    with mock.patch.object(Linker, "finish", finishing):
        monoculture.audit([str(sample / n) for n in ("lender_a.csv", "lender_b.csv", "lender_c.parquet")],
                          id_column="applicant_id", decision="approved", label="repaid",
                          inference=InferenceOptions(bootstrap=0, permutations=0))
    assert len(kept) == 3 and all(u.base is None for u in kept)


def _hex_ecosystem(tmp_path: Path, k: int = 4, n: int = 300, duplicate_in: int | None = None) -> list[str]:
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    ids = np.array([hashlib.sha256(str(v).encode()).hexdigest() for v in range(n)])
    group = rng.choice(["x", "y"], n)  # one value per person, in every file
    paths = []
    for i in range(k):
        keep = rng.permutation(np.flatnonzero(rng.random(n) > 0.1))
        chosen = ids[keep].tolist()
        if i == duplicate_in:
            chosen[1] = chosen[0]
        table = pa.table({"id": chosen, "decision": rng.integers(0, 2, len(keep)),
                          "label": rng.integers(0, 2, len(keep)), "g": group[keep]})
        path = tmp_path / f"dm{i}.parquet"
        pq.write_table(table, path, row_group_size=64)
        paths.append(str(path))
    return paths


def test_one_input_s_ids_at_a_time_gives_the_same_audit(tmp_path, monkeypatch):
    """Where memory is tight the streaming link reads an input's IDs only once the previous input's are
    coded (`IdGate`): the same JSON, byte for byte, as reading them with the rest."""
    from monoculture.link import load
    from monoculture.report.json import render_json

    paths = _hex_ecosystem(tmp_path)
    kw = dict(id_column="id", decision="decision", label="label", groups=["g"],
              inference=InferenceOptions(bootstrap=50, permutations=99))
    waits: list[int] = []
    real_gate = load.IdGate

    class CountingGate(real_gate):
        def wait(self, i: int):
            waits.append(i)
            return super().wait(i)

    monkeypatch.setattr(load, "IdGate", CountingGate)
    monkeypatch.setattr(load, "streaming_plan", lambda _paths: StreamingPlan(1, True, 0))
    gated = render_json(monoculture.audit(paths, **kw))
    assert sorted(waits) == [0, 1, 2, 3]
    monkeypatch.setattr(load, "streaming_plan", lambda _paths: StreamingPlan(1, False, 0))
    assert render_json(monoculture.audit(paths, **kw)) == gated


def _gated_and_not(paths: list[str], monkeypatch, **kw) -> tuple[str, str, int]:
    """The JSON of one audit with each input's IDs read in turn (and coded as read where they can be) and
    without, and how many inputs' IDs were coded as read."""
    from monoculture.link import linking, load
    from monoculture.report.json import render_json

    kw = dict(id_column="id", decision="decision", label="label", groups=["g"],
              inference=InferenceOptions(bootstrap=30, permutations=49)) | kw
    taken: list[int] = []
    real_taken = linking.IdGate.taken

    def counted(self, i):
        got = real_taken(self, i)
        taken.extend([i] if got is not None else [])
        return got

    monkeypatch.setattr(linking.IdGate, "taken", counted)
    monkeypatch.setattr(load, "streaming_plan", lambda _paths: StreamingPlan(1, True, 0))
    gated = render_json(monoculture.audit(paths, **kw))
    monkeypatch.setattr(load, "streaming_plan", lambda _paths: StreamingPlan(1, False, 0))
    return gated, render_json(monoculture.audit(paths, **kw)), len(taken)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_text_ids_coded_as_they_are_read_give_the_same_audit(tmp_path, monkeypatch, seed):
    """On the text route, with memory tight, each input's IDs are coded by its reader a few row groups at a
    time, never held whole: the same JSON, byte for byte, whatever the IDs hold — hashes, padded text,
    blanks, nulls, canonical integers in some row groups and `007` in others (the input's IDs are then
    text), an input whose IDs are all integers written as text, after row groups of none (then compared as
    integers, with the warning that some inputs hold integers), and an input that stores its IDs as numbers
    (read whole)."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n = 400
    words = [hashlib.sha256(str(v).encode()).hexdigest()[:rng.integers(4, 40)] for v in range(n // 2)]
    numbers = [str(v) for v in rng.choice(10**6, n // 2, replace=False)]
    ids = np.array(words + numbers, dtype=object)
    group = rng.choice(["x", "y"], n)
    paths = []
    for i in range(5):
        keep = rng.permutation(np.flatnonzero(rng.random(n) > 0.1))
        if i == 0:  # text first: the stream starts on the text route
            keep = np.concatenate([keep[keep < n // 2], keep[keep >= n // 2]])
        elif i == 2:  # integers first (whole row groups of them), then text, one `007`, padding, blanks
            keep = np.concatenate([keep[keep >= n // 2], keep[keep < n // 2]])
        elif i == 3:  # integers only
            keep = keep[keep >= n // 2]
        chosen: list = ids[keep].tolist()
        if i == 2:
            chosen += ["007", "  " + words[0] + " ", "", None]
        elif i == 3:  # row groups of no ID at all say nothing of the input's kind
            chosen = [None] * 64 + chosen
        column = pa.array(chosen, pa.large_string() if i % 2 else pa.string())
        if i == 4:  # IDs stored as numbers
            column = pa.array([int(v) for v in ids[keep[keep >= n // 2]]])
            keep = keep[keep >= n // 2]
        extra = len(column) - len(keep)
        table = pa.table({"id": column, "decision": np.r_[rng.integers(0, 2, len(keep)), np.ones(extra, int)],
                          "label": np.r_[rng.integers(0, 2, len(keep)), np.zeros(extra, int)],
                          "g": np.r_[group[keep], ["x"] * extra]})
        path = tmp_path / f"dm{i}.parquet"
        pq.write_table(table, path, row_group_size=32)
        paths.append(str(path))
    with mock.patch.object(text_table, "ROWS_PER_CALL", 50):
        gated, whole, taken = _gated_and_not(paths, monkeypatch, join="outer", on_missing="drop",
                                             on_duplicate="drop", on_group_conflict="missing")
    assert taken == 4  # every input whose IDs are text: the last stores numbers
    assert gated == whole and "integers" in whole


def test_an_error_while_ids_wait_their_turn_is_raised_not_hung(tmp_path, monkeypatch):
    from monoculture.link import load

    paths = _hex_ecosystem(tmp_path, duplicate_in=1)
    monkeypatch.setattr(load, "streaming_plan", lambda _paths: StreamingPlan(1, True, 0))
    with pytest.raises(monoculture.InputError, match=r"dm1\.parquet"):
        monoculture.audit(paths, id_column="id", decision="decision", label="label",
                          inference=InferenceOptions(bootstrap=0, permutations=0))
