"""The C scan of CSV inputs (`csvscan`) must give what Arrow's read and `ids.parse_dense` give, or decline.

Where it reads a file, each column's values (types, nulls, text), the IDs' numbers, form and range, and
the file's row count and hash equal the Arrow route's; where Arrow would refuse the file, the scan
declines, so the refusal is Arrow's. An audit gives byte-identical JSON with and without the extension.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monoculture
from monoculture.errors import InputError
from monoculture.read import csvscan
from monoculture.read.ids import parse_dense
from monoculture.read.sources import _load
from monoculture.report.json import render_json
from monoculture.spec import Columns
from profiles import examples

needs_scan = pytest.mark.skipif(not csvscan.AVAILABLE, reason="the C extension _csvscan is not built here")
COLS = Columns(id="id", decision="decision", label="label", groups=("group",))
WANTED = ["id", "decision", "label", "group"]


def test_extension_is_built_where_required():
    """scripts/test.sh (so CI) requires the extensions where there is a compiler: a build that silently
    fell back would leave the scan, the C ID table and the C recursion untested."""
    from monoculture.measure.metrics import ecosystem
    from monoculture.read import text_table

    if os.environ.get("MONOCULTURE_REQUIRE_CSVSCAN") != "1":
        pytest.skip("MONOCULTURE_REQUIRE_CSVSCAN is not set")
    assert csvscan.AVAILABLE and text_table.AVAILABLE and ecosystem.COMPILED is not None


def scan(path: Path) -> csvscan.Scanned | str:
    return csvscan.scan_table(str(path), WANTED, "id", ["id", "group"], ["group"])


def arrow(path: Path) -> tuple[pa.Table, monoculture.read.files.InputFile] | InputError:
    try:
        loaded = _load(str(path), ["id", "decision"], ["label", "group"], COLS)
    except InputError as exc:
        return exc
    assert not isinstance(loaded, csvscan.Scanned)
    return loaded


def assert_same(path: Path) -> bool:
    """The scan equals the Arrow route on `path`, or declines; True when it read the file."""
    got, want = scan(path), arrow(path)
    if isinstance(got, str):
        return False
    assert not isinstance(want, InputError), f"the scan read a file Arrow refuses: {want}"
    table, info = want
    assert got.info == info
    dense = parse_dense(table["id"])
    assert dense is not None, "the scan found dense IDs where parse_dense does not"
    ours = got.ids
    assert (ours.kind, ours.prefix, ours.width, ours.lo, ours.hi) == (
        dense.kind, dense.prefix, dense.width, dense.lo, dense.hi)
    assert np.array_equal(ours.mask, dense.mask)
    assert np.array_equal(ours.value[ours.mask], dense.value[dense.mask])
    if got.combinations is not None:  # each row's combination indexes its own cell in every column
        rows, parts = got.combinations.rows, got.combinations.parts
        assert sorted(parts) == sorted(got.table.column_names)
        for name, part in parts.items():
            column = got.table[name].combine_chunks()
            assert column.dictionary.take(pa.array(part[rows])).to_pylist() == column.to_pylist(), name
            assert len(np.unique(part)) == len(column.dictionary)  # every value occurs (the link relies on it)
        table_of = np.column_stack(list(parts.values()))
        assert len(np.unique(table_of, axis=0)) == len(table_of) == len(np.unique(rows))  # distinct, each used
    for name in got.table.column_names:
        mine, theirs = got.table[name], table[name]
        value_type = mine.type.value_type if pa.types.is_dictionary(mine.type) else mine.type
        their_type = theirs.type.value_type if pa.types.is_dictionary(theirs.type) else theirs.type
        assert value_type == their_type, name
        assert mine.to_pylist() == theirs.to_pylist(), name
    return True


@needs_scan
def test_hand_worked_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b'"id","decision","label","group"\r\n'
                     b'"p001",1,0,"a"\r\n'
                     b'p002,"1.5",,"b,c"\r\n'
                     b'\r\n'
                     b',0,1,"say ""hi"""\r\n'
                     b'p010,NA,1,')
    got = scan(path)
    assert isinstance(got, csvscan.Scanned)
    assert (got.ids.kind, got.ids.prefix, got.ids.width, got.ids.lo, got.ids.hi) == ("str", b"p", 3, 1, 10)
    assert got.ids.mask.tolist() == [True, True, False, True]
    assert got.ids.value[got.ids.mask].tolist() == [1, 2, 10]
    assert got.table["decision"].to_pylist() == [1.0, 1.5, 0.0, None]
    assert got.table["label"].to_pylist() == [0, None, 1, 1]
    assert got.table["group"].to_pylist() == ["a", "b,c", 'say "hi"', None]
    assert got.info.rows == 4
    assert assert_same(path)


@needs_scan
@pytest.mark.parametrize(("ids", "kind", "prefix", "width"), [
    (["7", "12", "0", ""], "int", None, 0),  # canonical integers: integer_ids makes them numbers
    (["007", "012", "100"], "str", b"", 3),  # a leading zero: text of one width
    (["A-0001", "A-0420", "NA"], "str", b"A-", 4),  # NA reads as null: a missing ID
])
def test_id_forms(tmp_path, ids, kind, prefix, width):
    path = tmp_path / "ids.csv"
    path.write_text("id,decision,label,group\n" + "".join(f"{v},1,1,g\n" for v in ids))
    got = scan(path)
    assert isinstance(got, csvscan.Scanned)
    assert (got.ids.kind, got.ids.prefix, got.ids.width) == (kind, prefix, width)
    assert assert_same(path)


@needs_scan
@pytest.mark.parametrize("shift", range(0, 70))
def test_values_at_every_offset(tmp_path, shift):
    """A line break, a CRLF, a quote, an escaped quote and a delimiter at every offset (within a word of
    eight bytes, a SIMD register or a cache line) read as Arrow reads them, or are declined, never misread."""
    pad = "x" * shift
    text = ("id,decision,label,group\r\n"
            f'p001,1,0,"{pad}a,""b"""\r\n'
            f'p002,0,{shift % 2},"{pad}"\r\n'
            f"p003,1,1,{pad}\n"
            f'"p004",1,0,"c\r\n"\n'  # a quoted CRLF: declined wherever it falls
            )
    path = tmp_path / "b.csv"
    path.write_text(text, newline="")
    assert scan(path) == "a line break inside a quoted value"
    path.write_text(text.rsplit('"p004"', 1)[0], newline="")
    assert assert_same(path)


@needs_scan
@pytest.mark.parametrize(("body", "why"), [
    (b'p1,1,1,"a\nb"\n', "a line break inside a quoted value"),
    (b"p1,1,1,a\rp2,1,1,b\n", "a carriage return that does not end a line"),
    (b'p1,1,1,a"b"\n', "a quote inside an unquoted value"),
    (b'p1,1,1,a"b\n', "a quote inside an unquoted value"),
    (b'p1,1,1,"a"b\n', "text after a closing quote"),
    (b"p1,1,1\n", "a row with another number of fields than the header"),
    (b"p1,1,1,a\nq22,1,1,a\n", "IDs outside the dense forms"),
    (b"7,1,1,a\n007,1,1,a\n", "IDs outside the dense forms"),  # neither integers nor one width
    (b"p1,1,1,\xe9\n", "text that is not UTF-8 in column group"),
])
def test_declines_what_it_does_not_read_as_arrow_does(tmp_path, body, why):
    """Each case falls back to Arrow, whose read (or refusal) then stands."""
    path = tmp_path / "d.csv"
    path.write_bytes(b"id,decision,label,group\n" + body)
    assert scan(path) == why


CELLS = ["", "NA", "null", "nan", "1", "0", "1.0", "-2", "1e400", "true", "False", "TRUE", " 1", "a", "b ",
         "a,b", 'x"y', "é", "2020-01-01", "  ", "w" * 70, 'say ""' + "z" * 60 + '"" twice']  # long: across blocks
IDS = ["p001", "p002", "p017", "p999", "p01", "q001", "7", "12", "007", "", "NA", " p003", "p004 ", 'p"5']


@st.composite
def csv_files(draw, tidy: bool):
    """CSV bytes over cells chosen to meet Arrow's edge cases (nulls, inference, quoting, escapes); `tidy`:
    only what the scan must read (no stray quotes, bare carriage returns, ragged rows, mixed ID forms)."""
    n = draw(st.integers(0, 12))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    ids = draw(st.lists(st.sampled_from(IDS[:4] if tidy else IDS), min_size=n, max_size=n))
    rows = []
    for j in range(n):
        cells = [ids[j], *draw(st.lists(st.sampled_from(CELLS), min_size=3, max_size=3))]
        quote = draw(st.lists(st.booleans(), min_size=4, max_size=4))
        out = []
        for cell, q in zip(cells, quote, strict=True):
            if q or "," in cell or '"' in cell or (tidy and ('"' in cell)):
                out.append('"' + cell.replace('"', '""') + '"')
            else:
                out.append(cell)
        if not tidy and draw(st.integers(0, 9)) == 0:
            out = out[:-1] if draw(st.booleans()) else [*out, "x"]
        rows.append(",".join(out))
        if draw(st.integers(0, 9)) == 0:
            rows.append("")  # an empty line: Arrow skips it
    header = draw(st.sampled_from(["id,decision,label,group", '"id","decision","label","group"',
                                   " id , decision,label,group"]))
    text = eol.join([header, *rows]) + draw(st.sampled_from(["", eol]))
    if not tidy and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(['"', "\r", "\n", ","])) + text[at:]
    return text.encode()


@needs_scan
@pytest.mark.parametrize("tidy", [False, True])
@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scan_equals_arrow_or_declines(tmp_path, tidy, data):
    """Any file: the scan equals Arrow's read or declines. A tidy file (within the subset, with an ID
    somewhere) it must read, not merely decline."""
    text = data.draw(csv_files(tidy=tidy))
    path = tmp_path / "x.csv"
    path.write_bytes(text)
    has_id = any(line.split(b",")[0].strip(b'"\r') not in (b"", b"id") for line in text.split(b"\n")[1:])
    assert assert_same(path) or not (tidy and has_id)


@needs_scan
@settings(max_examples=examples(300), deadline=None)
@given(data=st.binary(max_size=200), actions=st.binary(min_size=1, max_size=5))
def test_arbitrary_bytes_never_crash(data, actions):
    from monoculture.read import _csvscan

    head = _csvscan.header(data, ord(","))
    assert isinstance(head, str | tuple)
    ids = bytes([2]) + bytes(a % 2 for a in actions)
    bound = (len(data) + 1) // len(ids) + 1
    codes = [np.empty(bound, np.int32) for a in ids if a == 1]
    got = _csvscan.scan(data, 0, ord(","), ids, (b"", b"NA"), codes, np.empty(bound, np.int64),
                        np.empty(bound, np.bool_), np.empty(bound, np.int32))
    assert isinstance(got, str) or got[0] <= bound


AUDITS = [  # rule and join options: each reads the combinations of values its own way
    {"join": "outer"},
    {"join": "inner", "failure": "outcome", "unfavorable": "0"},
    {"join": "inner", "failure": "false-negative", "favorable": "1", "on_duplicate": "drop"},
    {"join": "outer", "failure": "error", "on_duplicate": "drop", "groups": ["region", "tier"]},
]


@needs_scan
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("options", AUDITS)
def test_audit_json_is_the_same_without_the_extension(tmp_path, seed, options, monkeypatch):
    """Whole audits over messy CSV inputs (quoted cells, CRLF, missing decisions, missing and conflicting
    group values, a repeated ID, a gzip input, one input the scan declines) give byte-identical JSON through
    the scan and through Arrow alone."""
    import gzip

    rng = np.random.default_rng(seed)
    region_of = rng.choice(["north", "south, east", 'say "west"', ""], 400)  # one per person
    paths = []
    for i in range(4):
        n = 300
        people = rng.permutation(400)[:n]
        label = rng.integers(0, 2, n)
        decision = np.where(rng.random(n) < 0.7, label, 1 - label).astype(object)
        decision[rng.random(n) < 0.03] = "NA"
        lines = ["applicant,decision,label,region" + (",tier" if i % 2 else "")]
        for j, person in enumerate(people):
            region = region_of[person].replace('"', '""')
            tier = f",{person % 3}" if i % 2 else ""
            lines.append(f'"c{person:05d}",{decision[j]},{label[j]},"{region}"{tier}')
        lines.append(lines[7].replace(",1,", ",0,", 1))  # an ID given twice
        if i == 3:  # a quoted line break: the scan declines this input and Arrow reads it
            lines[6] = lines[6].split(",")[0] + ',1,1,"x\ny",0'
        text = ("\r\n" if i == 1 else "\n").join(lines) + "\n"
        path = tmp_path / f"dm{i}.csv"
        if i == 2:
            path = tmp_path / "dm2.csv.gz"
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        paths.append(str(path))
    kw = {"id_column": "applicant", "label": "label", "groups": ["region"], "on_missing": "drop",
          "on_group_conflict": "missing", **options}
    if kw.get("on_duplicate") != "drop":
        with pytest.raises(InputError, match="more than once"):
            monoculture.audit(paths, **kw)
        kw["on_duplicate"] = "drop"
    calls = {}  # by path: inputs may be read at once
    real = csvscan.scan_table

    def spy(path, *a, **k):
        calls[path] = out = real(path, *a, **k)
        return out

    monkeypatch.setattr(monoculture.read.sources, "scan_table", spy)
    scanned = render_json(monoculture.audit(paths, **kw))
    assert [isinstance(calls[p], csvscan.Scanned) for p in paths] == [True, True, True, False]
    assert all(calls[p].combinations is not None for p in paths[:3])
    monkeypatch.setattr(csvscan, "_csvscan", None)
    plain = render_json(monoculture.audit(paths, **kw))
    assert scanned == plain


@needs_scan
@pytest.mark.parametrize(("options", "message"), [
    ({"failure": "error"}, "no decision value ever equals a label value (decisions: 'no', 'yes'; labels: '0', '1')"),
    ({"failure": "outcome", "unfavorable": "maybe"}, "'maybe' never occurs among the decisions ('no', 'yes')"),
    ({"failure": "outcome"}, "decisions take the values 'no', 'yes'"),
])
def test_rule_checks_see_the_scanned_values(tmp_path, options, message, monkeypatch):
    """The rule's checks of which values occur read the values of scanned inputs (no input read by Arrow
    here to supply them), and say what the Arrow route says."""
    paths = []
    for i in range(2):
        path = tmp_path / f"dm{i}.csv"
        path.write_text("id,decision,label\n" + "".join(f"p{j:03d},{'yes' if (i + j) % 3 else 'no'},{j % 2}\n"
                                                        for j in range(50)))
        paths.append(str(path))
    kw = {"label": "label", **options}
    errors = []
    for built in (True, False):
        if not built:
            monkeypatch.setattr(csvscan, "_csvscan", None)
        with pytest.raises(monoculture.MonocultureError) as caught:
            monoculture.audit(paths, **kw)
        errors.append(str(caught.value))
    assert message in errors[0]
    assert errors[0] == errors[1]


def test_read_ahead_follows_the_memory_available(tmp_path, monkeypatch):
    from monoculture.read import memory
    from monoculture.read.memory import IN_FLIGHT, read_ahead

    path = tmp_path / "a.csv"
    path.write_bytes(b"x" * 1000)
    held = IN_FLIGHT["csv"] * 1000  # one such input in flight
    assert read_ahead([str(path)], available=int(16 * held) + 1) == 3  # four in flight: a quarter of it
    assert read_ahead([str(path)], available=int(16 * held)) == 1
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    assert read_ahead([str(path)]) == 1  # memory unknown: one at a time, as before


@needs_scan
def test_rows_beyond_the_estimate_are_read_again_with_room(tmp_path, monkeypatch):
    """The buffers are first sized from the rows' mean length in the first 64 KiB; a file whose later rows
    are far shorter overruns that estimate and is scanned again with buffers no file can overrun."""
    head = "".join(f"p{j:05d},1,0,a,{'x' * 200}\n" for j in range(400))  # long rows: a small estimate
    tail = "".join(f"p{j:05d},{j % 2},1,b,\n" for j in range(400, 30000))
    path = tmp_path / "skew.csv"
    path.write_text("id,decision,label,group,note\n" + head + tail)
    sizes = []
    real = csvscan._row_bounds

    def spy(*args):
        sizes.extend(out := real(*args))
        return out

    monkeypatch.setattr(csvscan, "_row_bounds", spy)
    got = scan(path)
    assert isinstance(got, csvscan.Scanned) and got.info.rows == 30000
    assert len(sizes) == 2 and sizes[0] < 30000 <= sizes[1]  # the estimate fell short; the bound did not
    assert assert_same(path)
