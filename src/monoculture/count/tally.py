"""The pattern table in one aggregation: a scan of every input's rows, then one GROUP BY over them all.

`scan_sql` finds whether any row must be refused; when none is and no ID repeats within an input,
`tally_sql` stacks every input's rows, groups them by ID (bit masks of the inputs that have, validly have
and fail each ID) and then by pattern, in place of `sql.check_sql` and the k - 1 joins of `sql.emit_sql`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from ..errors import UsageError
from ..spec import FailureRule
from .sql import ROW_CHECKS, count_if, input_ctes, people_cte, row_checks_cte, shard_scope, trim_sql


def scan_sql(
    inputs: Sequence[str], *, id_column: str, decision: str, label: str | None, groups: Sequence[str],
    rule: FailureRule, join: str = "inner", layout: str | None = None, dialect: str = "duckdb",
    headers: Mapping[str, Sequence[str]] | None = None, integral: Mapping[str, Sequence[str]] | None = None,
    trim_keys: bool = True, people: str | None = None,
) -> str:
    """The row checks of `check_sql` that need no grouping (`ROW_CHECKS`): one scan of each input, one row
    with the columns suffixed ``_1``, ``_2``, ... An external engine runs it first and, when it finds
    nothing to refuse, counts with `tally_sql` instead of `check_sql` + `emit_sql`. `trim_keys` as in
    `tally_sql`: the checks are those of the trimmed IDs unless some ID is padded. With `trim_keys` False,
    ``padded_i`` also counts input i's IDs that may be padded (`may_be_padded`), and ``padded_people`` the
    people file's (the tally links its IDs too, where there are groups)."""
    names, ctes = input_ctes(inputs, id_column=id_column, decision=decision, label=label, groups=groups,
                              rule=rule, join=join, layout=layout, dialect=dialect, headers=headers,
                              integral=integral, trim_keys=trim_keys)
    k = len(names)
    ctes += [row_checks_cte(i, rule) for i in range(1, k + 1)]
    tables = [f"m{i}" for i in range(1, k + 1)]
    if not trim_keys:
        sources = [(f"r{i}", f"padded_{i}") for i in range(1, k + 1)]
        if people is not None and groups:
            ctes.append(people_cte(people, groups, id_column, dialect, headers, trim_keys))
            sources.append(("p", "padded_people"))
        ctes += [f"w_{alias} AS (SELECT {count_if(may_be_padded('id', dialect))} AS {alias} FROM {t})"
                 for t, alias in sources]
        tables += [f"w_{alias}" for _, alias in sources]
    tables = " CROSS JOIN ".join(tables)
    return (f"-- monoculture row checks ({dialect} SQL)\nWITH\n" + ",\n".join(ctes)
            + f"\nSELECT * FROM {tables}\n")


def may_be_padded(x: str, dialect: str) -> str:
    """A condition that holds for the text x when it may begin or end with white space (`sql.WHITESPACE`).
    DuckDB: its first or last character is below "!" or from U+0085 on, which takes in every white space
    character and some others (those texts are then trimmed, which changes nothing for them): comparing
    bytes is cheap, where trimming every row costs more than the rest of a scan."""
    if dialect == "spark":
        return f"{x} <> {trim_sql(x, dialect)}"
    return f"{x} < '!' OR {x} >= chr(133) OR substring({x}, -1) NOT BETWEEN '!' AND chr(132)"


def scan_rows(row: Mapping[str, object], k: int) -> tuple[list[dict[str, int]], bool]:
    """The one row of `scan_sql` as one dict per input (its `ROW_CHECKS`), and whether some ID may be
    padded (then the caller scans and counts again, trimmed; never with `trim_keys`)."""
    padded = any(int(v) for c, v in row.items() if c.startswith("padded_"))
    return [{c: int(row[f"{c}_{i}"]) for c in ROW_CHECKS} for i in range(1, k + 1)], padded


# Each input is one bit of a BIGINT mask in `tally_sql` (the sign bit left alone).
TALLY_MAX_INPUTS = 62
# DuckDB links rows by two 64-bit hashes of the ID text (a test may weaken the first to force collisions).
ID_HASHES = ("hash(id)", "hash('#' || id)")


def tally_sql(
    inputs: Sequence[str], *, id_column: str, decision: str, label: str | None, groups: Sequence[str],
    people: str | None, rule: FailureRule, join: str = "inner", layout: str | None = None,
    dialect: str = "duckdb", headers: Mapping[str, Sequence[str]] | None = None,
    integral: Mapping[str, Sequence[str]] | None = None, shard: tuple[int, int] | None = None,
    trim_keys: bool = True, hashed_groups: bool = False,
) -> str:
    """Linking and counting in one aggregation: every input's rows (and the people file's) stacked, grouped
    by ID, then grouped by what each ID's group gives. `tally_rows` reads the result.

    Per ID: ``present`` (bit i-1 set when input i has a row of it), ``seen`` (... a valid row), ``fail``
    (... a valid row that fails), its rows in the inputs and in the people file, and per group attribute
    the least and greatest value over all its rows. The result counts IDs by ``seen``, ``fail``, each
    attribute's value ``g_j`` (NULL when missing or given two ways), ``conflict_j`` (given two ways),
    ``repeated`` (on two rows of some input: then the masks do not tell that input's rows apart and the
    caller counts with `check_sql` + `emit_sql` instead) and ``people_repeated``. One hash aggregation over
    the rows replaces k - 1 joins and the checking query's per-input grouping (bench/README.md has the
    figures). `shard` = (s, S) keeps the IDs whose hash is s modulo S, as in
    `emit_sql`. At most `TALLY_MAX_INPUTS` inputs.

    DuckDB groups the rows by two 64-bit hashes of the ID (`ID_HASHES`; the second of the text behind a
    one-character prefix, so that it does not follow from the first) instead of its text: grouping by
    the text costs several times more, in time and in memory, than by a fixed-width key. Rows of two
    different IDs are taken for one ID only if both hashes of the two agree (for 10^8 distinct IDs,
    about 10^-23 expected such pairs); two IDs sharing one hash are told apart by the other. Where both
    agree within one input the count sees a repeated ID and the exact text-keyed queries count instead.

    `trim_keys` False reads IDs and group values as written (`scan_sql` finds whether some ID may be
    padded first). `hashed_groups` (DuckDB) spreads each ID's group values by
    their 64-bit hashes instead of their text, so that ``g_j`` is the hash of the value (`group_hashes`
    maps it back): the text's least and greatest per ID cost the aggregation more than all else.
    """
    names, ctes = input_ctes(inputs, id_column=id_column, decision=decision, label=label, groups=groups,
                              rule=rule, join=join, layout=layout, dialect=dialect, headers=headers,
                              integral=integral, trim_keys=trim_keys)
    k, n_groups = len(names), len(groups)
    if k > TALLY_MAX_INPUTS:
        raise UsageError(f"tally_sql counts at most {TALLY_MAX_INPUTS} inputs; got {k}")
    scope = shard_scope(shard, dialect)
    with_people = people is not None and bool(groups)
    zero = "CAST(0 AS BIGINT)"
    values = "".join(f", g_{j}" for j in range(n_groups))
    hashed_ids = dialect == "duckdb"
    key = f"{ID_HASHES[0]} AS h1, {ID_HASHES[1]} AS h2" if hashed_ids else "id"
    # DuckDB, where the three masks fit in one BIGINT: each row carries them as one (present, seen << k,
    # fail << 2k), and each ID has one aggregate of them instead of three (a fifth of the count's time).
    packed = dialect == "duckdb" and 3 * k <= TALLY_MAX_INPUTS
    parts = []
    for i in range(1, k + 1):
        bit = lambda shift, i=i: f"CAST({1 << (i - 1 + shift)} AS BIGINT)"  # noqa: E731
        seen, fail = (bit(k), bit(2 * k)) if packed else (bit(0), bit(0))
        masks = [bit(0), f"CASE WHEN valid THEN {seen} ELSE {zero} END",
                 f"CASE WHEN valid AND fail THEN {fail} ELSE {zero} END"]
        masks = [f"({' | '.join(masks)}) AS m"] if packed else [f"{m} AS {a}" for m, a in zip(masks, ("pb", "sb", "fb"),
                                                                                                strict=True)]
        parts.append(f"SELECT {key}, {', '.join(masks)}{', 1 AS inp' if with_people else ''}{values} FROM r{i} "
                     f"WHERE {scope}")
    if with_people:
        ctes.append(people_cte(people, groups, id_column, dialect, headers, trim_keys))
        masks = f"{zero} AS m" if packed else f"{zero} AS pb, {zero} AS sb, {zero} AS fb"
        parts.append(f"SELECT {key}, {masks}, 0 AS inp{values} FROM p WHERE {scope}")
    rows = "SUM(inp) AS nr, SUM(1 - inp) AS np" if with_people else "COUNT(*) AS nr, 0 AS np"
    value = "CASE WHEN g_{j} IS NOT NULL THEN hash(g_{j}) END" if hashed_groups else "g_{j}"
    spread = "".join(f", MIN({value.format(j=j)}) AS lo_{j}, MAX({value.format(j=j)}) AS hi_{j}"
                     for j in range(n_groups))
    every = (1 << k) - 1
    masks = (f"BIT_OR(m) & {every} AS present, (BIT_OR(m) >> {k}) & {every} AS seen, "
             f"(BIT_OR(m) >> {2 * k}) & {every} AS fail") if packed else (
        "BIT_OR(pb) AS present, BIT_OR(sb) AS seen, BIT_OR(fb) AS fail")
    ctes.append(f"per AS (SELECT {masks}, {rows}{spread} FROM ({' UNION ALL '.join(parts)}) u "
                f"GROUP BY {'h1, h2' if hashed_ids else 'id'})")
    keys = ["seen", "fail"]
    keys += [f"CASE WHEN lo_{j} = hi_{j} THEN lo_{j} END" for j in range(n_groups)]
    keys += [f"COALESCE(lo_{j} <> hi_{j}, FALSE)" for j in range(n_groups)]
    keys += ["nr > bit_count(present)", "np > 1"]
    aliases = ["seen", "fail", *(f"g_{j}" for j in range(n_groups)), *(f"conflict_{j}" for j in range(n_groups)),
               "repeated", "people_repeated"]
    select = ", ".join(["COUNT(*) AS n"]
                       + [f"{e} AS {a}" for e, a in zip(keys, aliases, strict=True)])
    header = f"-- monoculture linking and counting in one aggregation ({dialect} SQL): {k} inputs.\n"
    return header + "WITH\n" + ",\n".join(ctes) + f"\nSELECT {select}\nFROM per\nGROUP BY {', '.join(keys)}\n"


def group_values_sql(
    inputs: Sequence[str], *, id_column: str, decision: str, label: str | None, groups: Sequence[str],
    people: str | None, rule: FailureRule, join: str = "inner", layout: str | None = None,
    dialect: str = "duckdb", headers: Mapping[str, Sequence[str]] | None = None,
    integral: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Every distinct group value as written (``g``, of attribute ``attr``), trimmed (``trimmed``; NULL when
    blank) and the hash of each (``h``, ``ht``): what `group_hashes` needs to read `tally_sql`'s hashed
    groups. A scan of the inputs' group columns, a few values each (DuckDB)."""
    names, ctes = input_ctes(inputs, id_column=id_column, decision=decision, label=label, groups=groups,
                              rule=rule, join=join, layout=layout, dialect=dialect, headers=headers,
                              integral=integral, trim_keys=False)
    tables = [f"t{i}" for i in range(1, len(names) + 1)]
    if people is not None:
        ctes.append(people_cte(people, groups, id_column, dialect, headers, trim_keys=False))
        tables.append("p")
    values = " UNION ALL ".join(f"SELECT {j} AS attr, g_{j} AS g FROM {t}" for t in tables for j in range(len(groups)))
    trimmed = f"NULLIF({trim_sql('g', 'duckdb')}, '')"
    return ("-- monoculture group values (duckdb SQL)\nWITH\n" + ",\n".join(ctes)
            + f"\nSELECT attr, g, {trimmed} AS trimmed, hash(g) AS h, hash({trimmed}) AS ht "
            + f"FROM ({values}) v WHERE g IS NOT NULL GROUP BY attr, g\n")


def group_hashes(rows: Sequence[Mapping[str, object]], n_groups: int) -> tuple[list[dict[int, str]] | None, bool]:
    """From `group_values_sql`'s rows: whether some group value is padded (then every key is counted
    trimmed) and, per attribute, the value of each hash as `tally_sql` will count it (trimmed or not); None
    when two values of an attribute share a hash (then the tally spreads the text itself)."""
    padded = any(r["g"] != r["trimmed"] for r in rows)
    hash_of, text_of = ("ht", "trimmed") if padded else ("h", "g")
    values: list[dict[int, str]] = [{} for _ in range(n_groups)]
    for r in rows:
        text = r[text_of]
        if text is not None and values[int(r["attr"])].setdefault(int(r[hash_of]), str(text)) != text:
            return None, padded
    return values, padded


def tally_rows(
    tables: Sequence[pa.Table], scanned: Sequence[Mapping[str, int]], names: Sequence[str], groups: Sequence[str],
    join: str, group_values: Sequence[Mapping[int, str]] | None = None,
) -> tuple[list[dict[str, int]], pa.Table] | None:
    """The results of `tally_sql` (one per hash slice), completed by each input's `scan_rows`, as the
    checks `check_rows` gives (no ID on two rows: each ID's one row is its summary) and the pattern table
    of --emit-sql's columns; None when some input has an ID on two rows (the masks cannot tell them apart)."""
    t = pa.concat_tables(tables)
    n = t["n"].to_numpy().astype(np.int64)
    flag = lambda column: t[column].to_numpy(zero_copy_only=False).astype(bool)  # noqa: E731
    if (n[flag("repeated")] > 0).any():
        return None
    bit = np.int64(1) << np.arange(len(names), dtype=np.int64)
    seen = (t["seen"].to_numpy().astype(np.int64)[:, None] & bit) != 0
    fail = (t["fail"].to_numpy().astype(np.int64)[:, None] & bit) != 0
    linked = seen.all(axis=1) if join == "inner" else seen.sum(axis=1) >= 2
    shared = {"individuals": int(n[seen.any(axis=1)].sum()), "people_repeated": int(n[flag("people_repeated")].sum()),
              **{f"conflicts_{j}": int(n[linked & flag(f"conflict_{j}")].sum()) for j in range(len(groups))}}
    checks = [dict(c) | {"duplicate_ids": 0, "duplicate_rows": 0, "repeated_ids": 0, "valid_rows": int(n @ seen[:, i]),
                         "failed_rows": int(n @ fail[:, i])} | shared for i, c in enumerate(scanned)]
    keep = pa.array(linked)
    columns = {"count": pa.array(n[linked])}
    columns |= {f"group:{g}": _group_text(t[f"g_{j}"].filter(keep), None if group_values is None else group_values[j])
                for j, g in enumerate(groups)}
    columns |= {f"fail:{name}": pa.array(fail[linked, i]) for i, name in enumerate(names)}
    columns |= {f"seen:{name}": pa.array(seen[linked, i]) for i, name in enumerate(names)}
    return checks, pa.table(columns)


def _group_text(values: pa.ChunkedArray, text_of: Mapping[int, str] | None) -> pa.Array | pa.ChunkedArray:
    """A tally's group column as text: as it is, or each hash's value (`tally_sql`'s `hashed_groups`)."""
    if text_of is None:
        return values
    return pa.array([None if v is None else text_of[v] for v in values.to_pylist()], pa.string())


def tally_counts(
    run: Callable[[str], pa.Table], inputs: Sequence[str], names: Sequence[str], query: dict, people: str | None,
    slices: list[tuple[int, int] | None], on_missing: str,
) -> tuple[list[dict] | None, pa.Table | None]:
    """The checks and the pattern table from `scan_sql` and `tally_sql` (one aggregation instead of the
    checking query and k - 1 joins), or (None, None) when they cannot stand for them: an input to refuse
    (`sql.check_sql` finds the in-memory engine's first complaint), an ID on two rows of one input
    (`sql.emit_sql` drops or refuses it), more inputs than a mask holds.

    DuckDB counts IDs and group values as written, group values by their hashes (`group_values_sql`), and
    scans and counts trimmed where the scan finds an ID that may be padded; a padded group value has every
    key trimmed from the start, and two group values sharing a hash have their text spread instead."""
    if len(names) > TALLY_MAX_INPUTS:
        return None, None
    groups, values, trim = query["groups"], None, True
    if query.get("dialect", "duckdb") == "duckdb":
        values, trim = group_hashes(run(group_values_sql(inputs, **query, people=people)).to_pylist()
                                    if groups else [], len(groups))
    scanned, padded = scan_rows(run(scan_sql(inputs, **query, trim_keys=trim, people=people)).to_pylist()[0],
                                len(names))
    if padded:  # some ID may be written with white space around it: compare the IDs trimmed
        trim = True
        scanned, _ = scan_rows(run(scan_sql(inputs, **query, trim_keys=trim)).to_pylist()[0], len(names))
    missing = ("missing_id", "missing_decision", "missing_label")
    if any(c["not_numeric"] or (on_missing == "error" and any(c[m] for m in missing)) for c in scanned):
        return None, None
    tables = [run(tally_sql(inputs, **query, people=people, shard=s, trim_keys=trim,
                            hashed_groups=values is not None)) for s in slices]
    got = tally_rows(tables, scanned, names, groups, query["join"], values)
    return got if got is not None else (None, None)
