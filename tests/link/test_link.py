"""Linking: layouts, ID rules, coverage counts that add up, groups from files and the people file."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monoculture
from monoculture.errors import InputError, UsageError
from monoculture.link.id_codes import code_ids
from monoculture.read import ids as ids_module
from monoculture.read import text_table
from monoculture.report.json import render_json
from monoculture.spec import InferenceOptions
from profiles import examples

ROOT = Path(__file__).resolve().parents[2]
needs_idtable = pytest.mark.skipif(not text_table.AVAILABLE, reason="the C ID table was not built")
SHARED = ROOT.parent / "shared" / "data"


def _write(d: Path, name: str, text: str) -> str:
    p = d / name
    p.write_text(text)
    return str(p)


def _coverage_adds_up(result) -> None:
    for s in result.coverage.sources:
        parts = (s.missing_id + s.missing_decision + s.missing_label + s.blank_cells + s.duplicate_rows
                 + s.not_linked + s.linked)
        assert parts == s.rows, s


def test_coverage_counts_add_up_with_partial_overlap(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n1,1,1\n2,0,1\n3,1,1\n4,,1\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n2,0,1\n3,1,1\n5,0,0\n,1,1\n")
    c = _write(tmp_path, "c.csv", "id,decision,label\n1,1,1\n2,1,1\n3,0,1\n5,1,0\n")
    with pytest.raises(InputError, match=r"missing or blank ID|missing decision"):
        monoculture.audit([a, b, c], label="label")
    r = monoculture.audit([a, b, c], label="label", on_missing="drop")
    assert r.coverage.linked == 2  # IDs 2 and 3
    cov = {s.name: s for s in r.coverage.sources}
    assert cov["a"].missing_decision == 1 and cov["b"].missing_id == 1
    assert cov["a"].not_linked == 1 and cov["b"].not_linked == 1 and cov["c"].not_linked == 2
    _coverage_adds_up(r)
    outer = monoculture.audit([a, b, c], label="label", on_missing="drop", join="outer")
    assert outer.coverage.linked == 4  # 1 (a, c), 2, 3, 5 (b, c)
    _coverage_adds_up(outer)
    assert {s.name: s.linked_individuals_unseen for s in outer.coverage.sources} == {"a": 1, "b": 1, "c": 0}


def test_integer_ids_compare_as_integers_and_text_ids_are_trimmed(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n7,1,1\n8,0,1\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n7,1,1\n8,1,1\n")
    r = monoculture.audit([a, b], label="label")
    assert r.coverage.id_type == "integer" and r.coverage.linked == 2
    # A CSV holds text: 007 is not written as the integer 7 is, so the two do not link (as in SQL).
    e = _write(tmp_path, "e.csv", "id,decision,label\n007,1,1\n8,0,1\n")
    r = monoculture.audit([e, b], label="label", join="outer")
    assert r.coverage.linked == 1 and r.coverage.individuals_seen == 3
    assert any("'007' and '7' do not match" in w for w in r.warnings)
    f = _write(tmp_path, "f.csv", "id,decision,label\n007,1,1\n008,0,1\n")
    with pytest.raises(InputError, match=r"nothing to audit .*'007' and '7' do not match"):
        monoculture.audit([f, b], label="label")
    c = _write(tmp_path, "c.csv", 'id,decision,label\n"  p1 ",1,1\np2,0,1\n')
    d = _write(tmp_path, "d.csv", "id,decision,label\np1,1,1\np2 ,1,1\n")
    r = monoculture.audit([c, d], label="label")
    assert r.coverage.id_type == "string" and r.coverage.linked == 2


def test_mixed_integer_and_text_ids_warn(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n7,1,1\n8,0,1\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n7,1,1\nx8,1,1\n")
    r = monoculture.audit([a, b], label="label")
    assert r.coverage.linked == 1
    assert any("'007' and '7' do not match" in w for w in r.warnings)


def test_groups_from_people_file_and_conflicts(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label,g\n1,1,1,x\n2,0,1,y\n3,1,1,y\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n1,1,1\n2,1,1\n3,0,1\n")
    people = _write(tmp_path, "people.csv", "id,g,h\n1,x,u\n2,y,u\n3,x,v\n")
    with pytest.raises(InputError, match="1 linked individual has conflicting values"):
        monoculture.audit([a, b], label="label", groups=["g"], people=people)
    r = monoculture.audit([a, b], label="label", groups=["g", "h"], people=people, on_group_conflict="missing",
                          intersect=True)
    assert r.coverage.group_conflicts == {"g": 1, "h": 0}
    got = {(g.attribute, g.group): g.n for g in r.groups}
    assert got == {("g", "(missing)"): 1, ("g", "x"): 1, ("g", "y"): 1, ("h", "u"): 2, ("h", "v"): 1,
                   ("g & h", "(missing) & v"): 1, ("g & h", "x & u"): 1, ("g & h", "y & u"): 1}


def test_wide_layout_blank_cells_mean_not_seen(tmp_path):
    w = _write(tmp_path, "w.csv", "id,r1,r2,r3,gold\n1,a,a,,a\n2,b,,a,a\n3,,b,b,b\n4,a,b,,b\n")
    with pytest.raises(InputError, match="no individual is seen by every decision-maker"):
        monoculture.audit([w], decision_columns=["r*"], label="gold")
    r = monoculture.audit([w], decision_columns=["r*"], label="gold", join="outer")
    assert [d.name for d in r.decision_makers] == ["r1", "r2", "r3"]
    assert {s.name: s.blank_cells for s in r.coverage.sources} == {"r1": 1, "r2": 1, "r3": 2}
    assert r.overall.n == 4
    _coverage_adds_up(r)


def test_stacked_layout_with_label_in_people_file(tmp_path):
    s = _write(tmp_path, "s.csv", "item,worker,answer\n1,w1,0\n1,w2,1\n2,w1,1\n2,w2,1\n3,w2,0\n3,w1,1\n")
    truth = _write(tmp_path, "t.csv", "item,truth\n1,1\n2,1\n3,0\n")
    r = monoculture.audit([s], layout="stacked", decision_maker_column="worker", id_column="item",
                          decision="answer", label="truth", people=truth)
    assert {k: v.value for k, v in r.overall.failure_rates.items()} == {"w1": pytest.approx(2 / 3), "w2": 0.0}
    assert r.overall.homogenization.value is None
    assert "w2 never fails" in r.overall.homogenization.reason


def test_transposed_layout(tmp_path):
    t = _write(tmp_path, "t.csv", "userid,q1,q2,q3\nm1,1,0,0\nm2,1,0,1\n")
    r = monoculture.audit([t], layout="transposed", decision_maker_column="userid", failure="outcome",
                          unfavorable="0")
    assert r.overall.n == 3 and r.overall.systemic_failure.value == pytest.approx(1 / 3)


def test_same_decision_maker_twice_is_an_error(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n1,1,1\n")
    with pytest.raises(UsageError, match="named twice"):
        monoculture.audit([f"x={a}", f"x={a}"], label="label")


def test_json_has_no_nan_and_undefined_has_reason(tmp_path):
    a = _write(tmp_path, "a.csv", "id,decision,label\n1,1,1\n2,1,1\n")
    b = _write(tmp_path, "b.csv", "id,decision,label\n1,0,1\n2,1,1\n")
    text = render_json(monoculture.audit([a, b], label="label"))
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    h = data["overall"]["homogenization"]
    assert h["value"] is None and "a never fails" in h["reason"]


@pytest.mark.skipif(not SHARED.exists(), reason="shared real data not present")
def test_real_data_runs():
    hc = monoculture.audit([str(SHARED / "hatecheck/all_annotations.csv")], id_column="case_id",
                           decision_columns=["label_[0-9]*"], label="label_gold", join="outer",
                           people=str(SHARED / "hatecheck/all_cases.csv"), groups=["target_ident"])
    assert hc.overall.n == 3901 and len(hc.decision_makers) == 10
    _coverage_adds_up(hc)
    duck = monoculture.audit([str(SHARED / "crowd-duck/answer.csv")], layout="stacked", decision_maker_column="worker",
                             id_column="question", decision="answer", label="truth",
                             people=str(SHARED / "crowd-duck/truth.csv"))
    assert len(duck.decision_makers) == 39 and duck.overall.n == 108
    boolq = monoculture.audit([str(SHARED / "nlu-boolq/boolq_irt_all_coded.csv")], layout="transposed",
                              decision_maker_column="userid", failure="outcome", unfavorable="0")
    assert len(boolq.decision_makers) == 90 and boolq.overall.n == 1635
    assert np.isclose(sum(b.observed.value for b in boolq.overall.failure_count_histogram), 1.0)


# --- ID coding: the dense route (integers, fixed prefix + digits) links exactly like hashing text ---




def _canonical(value: object) -> str | None:
    """The documented comparison key, written independently of ids.py."""
    if value is None:
        return None
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    return text or None


def _assert_codes_match_canonical(arrays: list[pa.ChunkedArray], coded) -> None:
    by_key: dict[str, int] = {}
    by_code: dict[int, str] = {}
    for arr, codes in zip(arrays, coded.codes, strict=True):
        for value, code in zip(arr.to_pylist(), codes.tolist(), strict=True):
            key = _canonical(value)
            if key is None:
                assert code == -1
                continue
            assert 0 <= code < coded.universe
            assert by_key.setdefault(key, code) == code  # equal IDs share a code
            assert by_code.setdefault(code, key) == key  # one code, one ID
    if by_code:
        codes = np.array(sorted(by_code))
        assert coded.decode(codes) == [by_code[c] for c in codes.tolist()]


_families = st.sampled_from(["prefixed", "digits", "ints", "sparse-ints", "prefixed-sparse", "messy"])


@settings(max_examples=examples(150), deadline=None)
@given(family=_families, data=st.data())
def test_id_codes_link_exactly_like_canonical_text(family, data):
    k = data.draw(st.integers(2, 4))
    pool = data.draw(st.lists(st.integers(0, 60), min_size=1, max_size=30))
    arrays = []
    for _ in range(k):
        picks = data.draw(st.lists(st.sampled_from(pool), max_size=25))
        holes = data.draw(st.lists(st.booleans(), min_size=len(picks), max_size=len(picks)))
        if family == "prefixed":
            vals = [None if h else f"u{v:05d}" for v, h in zip(picks, holes, strict=True)]
        elif family == "prefixed-sparse":
            vals = [None if h else f"id-{v * 10**12:015d}" for v, h in zip(picks, holes, strict=True)]
        elif family == "digits":
            vals = [None if h else f"{v:04d}" for v, h in zip(picks, holes, strict=True)]
        elif family == "ints":
            vals = [None if h else v for v, h in zip(picks, holes, strict=True)]
        elif family == "sparse-ints":
            vals = [None if h else v * 10**15 - 7 for v, h in zip(picks, holes, strict=True)]
        else:  # variable widths, padding, blanks: must take the hashed route and still be right
            vals = [None if h else data.draw(st.sampled_from([f"x{v}", f" x{v} ", f"x{v:03d}", "", "  "]))
                    for v, h in zip(picks, holes, strict=True)]
        typ = pa.int64() if family in ("ints", "sparse-ints") else pa.string()
        arrays.append(pa.chunked_array([pa.array(vals, typ)]))
    coded = code_ids(arrays, [f"f{i}.csv" for i in range(k)])
    _assert_codes_match_canonical(arrays, coded)
    if family in ("prefixed", "digits", "ints") and any(a.null_count < len(a) for a in arrays):
        assert coded.method == "dense"


def test_fixed_prefix_ids_take_the_dense_route_and_audit_identically(tmp_path):
    rng = np.random.default_rng(3)
    n = 400
    label = rng.integers(0, 2, n)
    paths_text, paths_int = [], []
    for j in range(3):
        keep = rng.permutation(n)[: n - 20]
        dec = np.where(rng.random(n) < 0.2, 1 - label, label)
        rows_t = ["id,decision,label"] + [f"p{i:06d},{dec[i]},{label[i]}" for i in keep]
        rows_i = ["id,decision,label"] + [f"{i},{dec[i]},{label[i]}" for i in keep]
        paths_text.append(_write(tmp_path, f"t{j}.csv", "\n".join(rows_t) + "\n"))
        paths_int.append(_write(tmp_path, f"i{j}.csv", "\n".join(rows_i) + "\n"))
    # A padded ID forces the text through the hashed route; it must not change any number.
    rows = (tmp_path / "t0.csv").read_text().splitlines()
    rows[1] = " " + rows[1].replace(",", " ,", 1)
    padded = _write(tmp_path, "t0pad.csv", "\n".join(rows) + "\n")
    def named(paths):
        return [f"dm{j}={p}" for j, p in enumerate(paths)]

    dense = monoculture.audit(named(paths_text), label="label")
    hashed = monoculture.audit(named([padded, *paths_text[1:]]), label="label")
    ints = monoculture.audit(named(paths_int), label="label")
    assert dense.coverage.id_type == "string" and ints.coverage.id_type == "integer"
    for other in (hashed, ints):
        a, b = json.loads(render_json(dense)), json.loads(render_json(other))
        for key in ("overall", "groups", "pairs"):
            assert a.get(key) == b.get(key)
    # The dense IDs were linked streaming, the padded ones in memory (the first input sets the form):
    # the same coverage, input by input (apart from the padded copy's file name).
    a, b = json.loads(render_json(dense)), json.loads(render_json(hashed))
    for cov in (a["coverage"], b["coverage"]):
        for source in cov["sources"]:
            source.pop("file")
    assert a["coverage"] == b["coverage"] and a["decision_makers"] == b["decision_makers"]


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(1, 18), st.integers(1, 40), st.sampled_from(["", "/", ":", "a", " ", "+"]), st.integers(0, 17))
def test_decimal_parses_fixed_width_digits_like_int(width, rows, bad, where):
    """The 8-at-a-time digit parse equals int() on every row, and refuses any row holding a non-digit."""
    from monoculture.read.ids import _decimal

    rng = np.random.default_rng(rows * 31 + width)
    texts = ["".join(rng.choice(list("0123456789"), width)) for _ in range(rows)]
    matrix = np.frombuffer("".join(texts).encode(), dtype=np.uint8).reshape(rows, width)
    np.testing.assert_array_equal(_decimal(matrix), np.array([int(t) for t in texts], dtype=np.int64))
    if bad:
        broken = matrix.copy()
        broken[rows // 2, where % width] = ord(bad)
        assert _decimal(broken) is None


@settings(max_examples=examples(200), deadline=None)
@given(width=st.sampled_from([6, 8, 20, 64]), data=st.data(), large=st.booleans())
def test_fingerprint_codes_equal_the_text_dictionary(width, data, large):
    """Fixed-width text IDs coded through fingerprints get exactly the codes one Arrow dictionary
    encoding of every input's text gives (both number IDs in order of first occurrence), whatever the
    width (one 64-bit word or several) and with inputs that hold no ID at all."""
    from monoculture.read.fingerprints import fingerprint_codes

    token = st.text(alphabet="0123", min_size=width, max_size=width)  # few letters: repeats across inputs
    inputs = data.draw(st.lists(st.lists(st.one_of(st.none(), token), max_size=30), min_size=1, max_size=4))
    kind = pa.large_string() if large else pa.string()
    texts = [pa.array(ids, kind) for ids in inputs]
    got = fingerprint_codes(texts)
    assert got is not None
    encoded = pc.dictionary_encode(pa.concat_arrays([t.cast(pa.large_string()) for t in texts]))
    want = np.where(encoded.indices.is_null().to_numpy(zero_copy_only=False), -1,
                    encoded.indices.to_numpy(zero_copy_only=False))
    assert np.concatenate(got.codes).tolist() == want.tolist()
    assert got.distinct.to_pylist() == encoded.dictionary.to_pylist()


def test_fingerprints_that_collide_fall_back_to_the_text(monkeypatch, tmp_path):
    """The NumPy fingerprints (where the C table was not built) give up on IDs that share one; the inputs
    are then read again and linked by Arrow's text hash."""
    from monoculture.read import fingerprints

    monkeypatch.setattr(text_table, "AVAILABLE", False)
    texts = [pa.array(["aaaa", "bbbb", None]), pa.array(["bbbb", "cccc"])]
    assert fingerprints.fingerprint_codes(texts) is not None
    widths = fingerprints.fingerprint_codes([pa.array(["aaaa", "aaa", "aaaa\x00"])])
    assert widths is not None and widths.codes[0].tolist() == [0, 1, 2]  # lengths tell padding apart
    monkeypatch.setattr(fingerprints, "fingerprint", lambda words, lengths=0: np.zeros(len(words), np.uint64))
    assert fingerprints.fingerprint_codes(texts) is None  # every ID shares one fingerprint: caught
    (tmp_path / "a.csv").write_text("id,decision,label\naaaa,1,1\nbbbb,0,1\ncccc,1,0\n")
    (tmp_path / "b.csv").write_text("id,decision,label\nbbbb,1,1\ncccc,0,0\ndddd,1,1\n")
    stages: list[str] = []
    result = monoculture.audit([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], label="label",
                               on_stage=stages.append)
    assert result.overall.n == 2  # linked by the text hash, correctly
    # The stream's fingerprints collided too (its byte check caught it), so the inputs were read again.
    assert any("text IDs first" in s for s in stages) and any("again" in s for s in stages)


@needs_idtable
def test_the_c_table_resolves_shared_hashes_by_the_bytes(monkeypatch, tmp_path):
    """The compiled table compares bytes: IDs that share a hash (every hash kept to 0 or 1 bits) still get
    one code each, and the stream goes on without reading anything again."""
    texts = [pa.array(["aaaa", "bbbb", None, "", "aaaa"]), pa.array(["bbbb", "cccc", "aaa", "aaaa\x00"])]
    for bits in (64, 1, 0):
        monkeypatch.setattr(text_table, "HASH_BITS", bits)
        got = text_table.text_codes(texts)
        assert [c.tolist() for c in got.codes] == [[0, 1, -1, -1, 0], [1, 2, 3, 4]]
        assert got.distinct.to_pylist() == ["aaaa", "bbbb", "cccc", "aaa", "aaaa\x00"]
    (tmp_path / "a.csv").write_text("id,decision,label\naaaa,1,1\nbbbb,0,1\ncccc,1,0\n")
    (tmp_path / "b.csv").write_text("id,decision,label\nbbbb,1,1\ncccc,0,0\ndddd,1,1\n")
    stages: list[str] = []
    result = monoculture.audit([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], label="label",
                               on_stage=stages.append)
    assert result.overall.n == 2
    assert any("text IDs first" in s for s in stages) and not any("again" in s for s in stages)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "bb", "ccc", "a\x00", "dd d"])),
                                  max_size=9), max_size=4), min_size=1, max_size=4),
       st.integers(1, 8), st.sampled_from([64, 2]), st.booleans())
def test_text_ids_coded_a_few_rows_a_call_get_the_codes_of_one_call(inputs, per_call, bits, large):
    """Inputs (each in chunks of any length) coded `per_call` rows at a time, as long inputs are: every ID
    gets the code of its first occurrence, input after input, row by row (brute force), however the calls
    cut the chunks."""
    if not text_table.AVAILABLE:
        return
    kind = pa.large_string() if large else pa.string()
    seen: dict[str, int] = {}
    with mock.patch.object(text_table, "ROWS_PER_CALL", per_call), mock.patch.object(text_table, "HASH_BITS", bits):
        coder = text_table.TextCoder()
        for chunks in inputs:
            rows = [v for chunk in chunks for v in chunk]
            expected = [-1 if not v else seen.setdefault(v, len(seen)) for v in rows]
            got = coder.add(text_table.TextIds([pa.array(c, kind) for c in chunks]))
            assert got.tolist() == expected
    assert coder.distinct().to_pylist() == list(seen)


def test_an_id_has_one_fingerprint_whatever_the_width_of_its_input(monkeypatch):
    """A regression: the NumPy fingerprint folded in the zero words that pad an input's IDs to its longest,
    so an ID in an input with longer IDs got another fingerprint, and another code: the same person, not
    linked (found when the C table, which hashes only an ID's own bytes, disagreed with it)."""
    from monoculture.read import fingerprints

    monkeypatch.setattr(text_table, "AVAILABLE", False)
    wide = pa.array(["nnn220x220x", "nnnnnn167x167x167x", "a"])  # longest 18 bytes: three words a row
    narrow = pa.array(["nnnnn166x", "nnn220x220x"])  # longest 11 bytes: two words
    got = fingerprints.fingerprint_codes([wide, narrow])
    assert got is not None and got.codes[1].tolist() == [3, 0]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(
    ["a", " b", "c ", "", "  ", "\u00a0x", "y\u3000", "é", "\tz\n", "p01", "ab cd", "\x1f", "x\u00a0y"])),
    max_size=12))
def test_ids_take_their_canonical_text_form(values):
    """Trimmed (Unicode white space too), blank = missing — with the copy skipped when nothing changes."""
    from monoculture.read.ids import as_text as _as_text

    half = len(values) // 2
    got = _as_text(pa.chunked_array([pa.array(values[:half], pa.string()), pa.array(values[half:], pa.string())]),
                   "str").to_pylist()
    assert got == [None if v is None or not v.strip() else v.strip() for v in values]


def _written(item: tuple[str, int, int, bool]) -> str:
    """One ID as text: decimal or Arrow's hexadecimal form, with `pad` leading zeros."""
    form, v, pad, upper = item
    if form == "hex":
        digits = format(abs(v), "X" if upper else "x")
        return f"{'-' if v < 0 else ''}0{'X' if upper else 'x'}{'0' * pad}{digits}"
    return f"{'-' if v < 0 else ''}{'0' * pad}{abs(v)}"


_ID_ITEMS = st.tuples(st.sampled_from(["dec", "dec", "dec", "hex"]),
                      st.one_of(st.integers(-10**12, 10**12), st.integers(-2**63, 2**63 - 1),
                                st.sampled_from([0, -2**63, 2**63 - 1, 9, 10, 99, 100])),
                      st.sampled_from([0, 0, 0, 1, 2, 7]), st.booleans())


@given(st.lists(st.one_of(st.none(), _ID_ITEMS), min_size=1), st.integers(0, 100))
def test_integer_ids_turn_text_to_numbers_only_where_the_text_is_the_number(items, cut):
    """Text IDs (decimal or hexadecimal, some zero-padded, in two chunks that are slices of one array) become
    int64 exactly when every one is written as str(int) writes it, so comparing numbers compares the text;
    otherwise they stay as they are."""
    texts = [None if it is None else _written(it) for it in items]
    whole = pa.array(texts, pa.string())
    cut = cut % (len(texts) + 1)
    out = ids_module.integer_ids(pa.chunked_array([whole[:cut], whole[cut:]], pa.string()))
    present = [t for t in texts if t is not None]
    if present and all(t.lstrip("-").isdigit() and str(int(t)) == t for t in present):
        assert out.type == pa.int64()
        assert out.to_pylist() == [None if t is None else int(t) for t in texts]
    else:
        assert out.type == pa.string()
        assert out.to_pylist() == texts


def test_arrow_casts_to_int64_exactly_the_text_integer_ids_expects():
    """ids._written_canonically relies on Arrow's cast accepting only -?[0-9]+ and 0[xX][0-9a-fA-F]+:
    every string of up to 4 characters over an alphabet of digits, signs, x, hex letters and blanks."""
    texts = ["".join(p) for n in range(1, 5) for p in itertools.product("019-+xXaFe. \t", repeat=n)]
    grammar = re.compile(r"-?[0-9]+|0[xX][0-9a-fA-F]+")
    accepted = set()
    for t in texts:
        try:
            pc.cast(pa.array([t]), pa.int64())
            accepted.add(t)
        except pa.ArrowInvalid:
            pass
    assert accepted == {t for t in texts if grammar.fullmatch(t)}


@given(st.lists(st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(-1000, 1000))))
def test_decimal_length_is_the_length_of_str(values):
    assert ids_module._decimal_length(np.array(values, dtype=np.int64)) == sum(len(str(v)) for v in values)


@pytest.mark.parametrize("first", ["--7", "+7", "-0", "07", "\u0663", "7 ", "1e3", "99999999999999999999"])
def test_integer_ids_keep_text_that_only_looks_like_an_integer(first):
    """Whatever the first ID is, the IDs stay text unless every one is str(int) of an int64."""
    ids = pa.chunked_array([pa.array([first, "8", None], pa.string())])
    assert ids_module.integer_ids(ids).to_pylist() == [first, "8", None]
    assert ids_module.integer_ids(pa.chunked_array([pa.array(["8", first], pa.string())])).type == pa.string()


def test_integer_ids_are_not_fooled_when_a_short_hex_form_balances_a_zero_padded_one():
    # 0x7fffffffffffffff (18 characters) is one shorter than 9223372036854775807; 01 one longer than 1
    texts = ["5", "0x7fffffffffffffff", "01"]
    assert ids_module.integer_ids(pa.chunked_array([pa.array(texts)])).to_pylist() == texts


def test_csv_group_values_across_parser_blocks_equal_pandas(tmp_path):
    """CSV group columns are dictionary-encoded as parsed, one dictionary per parser block (about 1 MiB):
    files large enough for several blocks, whose blocks hold the values in different orders (and blanks,
    padding, numbers written two ways), give each individual the group pandas reads as text."""
    rng = np.random.default_rng(7)
    n = 20_000
    values = np.array([f"v{j:02d}" for j in range(60)] + [" a", "a ", "", "1.0", "1"], dtype=object)
    group = values[np.minimum(rng.zipf(1.3, n) - 1, len(values) - 1)]  # skewed: blocks differ in order
    fail = rng.random((n, 2)) < [0.3, 0.4]
    paths = []
    for i in range(2):
        order = rng.permutation(n)
        frame = pd.DataFrame({"id": [f"p{j:06d}" for j in order], "decision": (1 - fail[order, i]),
                              "label": 1, "g": group[order], "note": "x" * 120})
        paths.append(str(tmp_path / f"dm{i}.csv"))
        frame.to_csv(paths[-1], index=False)
    assert Path(paths[0]).stat().st_size > 2 << 20  # at least three parser blocks
    r = monoculture.audit(paths, label="label", groups=["g"], min_group_size=0,
                          inference=InferenceOptions(bootstrap=0, permutations=0))
    # pandas, as text: blank is missing; a value is its trimmed text, so " a" and "a " are one group.
    text = pd.read_csv(paths[0], dtype=str, keep_default_na=False)["g"].str.strip()
    by_id = dict(zip(pd.read_csv(paths[0], dtype=str)["id"], text, strict=True))
    want: dict[str, list[int]] = {}
    for j in range(n):
        g = by_id[f"p{j:06d}"] or "(missing)"
        want.setdefault(g, [0, 0])
        want[g][0] += 1
        want[g][1] += int(fail[j].all())
    got = {g.group: [g.n, round(g.systemic_failure.value * g.n)] for g in r.groups if g.attribute == "g"}
    assert got == want
