"""Link decision-makers' rows by individual ID into one failure matrix, counting everything left out.

IDs are compared as integers when every input stores them as integers (so `007` read by a CSV parser as
the number 7 equals 7), otherwise as text with surrounding white space removed, with a warning when some
inputs hold integers and others text. `ids.code_ids` gives each distinct ID one code.

Join: ``inner`` (default) keeps individuals seen by every decision-maker; ``outer`` keeps everyone seen
by at least two, and each number then uses, for each person, the decision-makers that saw them.
Nothing is imputed: a decision-maker that did not see a person never counts as failing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError, UsageError
from .failures import FailureRule, ResolvedRule, failures, favourable_from_scores, resolve
from .ids import IdCodes, code_ids
from .sources import People, Source
from .values import Vocabulary, as_numbers, dictionary_codes

JOINS = ("inner", "outer")
MISSING_GROUP = "(missing)"


@dataclass
class SourceCoverage:
    """What happened to each row of one decision-maker's input. The row counts add up to `rows`."""

    name: str
    file: str
    rows: int
    missing_id: int = 0
    missing_decision: int = 0
    missing_label: int = 0
    blank_cells: int = 0  # wide/transposed layouts: the decision-maker did not see this individual
    duplicate_rows: int = 0  # rows dropped because their ID occurs more than once in this input
    duplicate_ids: int = 0
    not_linked: int = 0  # valid rows of individuals the join excludes
    linked: int = 0
    linked_individuals_unseen: int = 0  # outer join: linked individuals this decision-maker did not see
    valid_rows: int = 0  # rows that took part in linking (after the exclusions above)
    failed_rows: int = 0  # of those, rows the decision-maker failed


@dataclass
class PeopleCoverage:
    file: str
    rows: int
    matched: int
    not_matched: int
    linked_without_row: int


@dataclass
class Coverage:
    """The linking report (issue: nothing is dropped without being counted)."""

    join: str
    id_type: str
    sources: list[SourceCoverage]
    individuals_seen: int
    linked: int
    excluded_by_join: int
    people: PeopleCoverage | None = None
    group_conflicts: dict[str, int] = field(default_factory=dict)
    missing_group: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IdRows:
    """The linked individuals' IDs, decoded only on request."""

    coded: IdCodes
    codes: np.ndarray  # (N,) code of each linked individual

    def text(self, mask: np.ndarray) -> list[str]:
        return self.coded.decode(self.codes[mask])


@dataclass
class Linked:
    """The linked failure matrix with its masks and group cells: the input of `PatternTable.build`."""

    names: list[str]
    fail: np.ndarray  # (N, k) bool
    present: np.ndarray  # (N, k) bool
    attributes: list[str]
    cell: np.ndarray  # (N,) int: index into cell_labels
    cell_labels: list[tuple[str, ...]]
    ids: IdRows  # kept only so the user can ask for them (--emit-ids); never printed otherwise
    coverage: Coverage
    rule: ResolvedRule
    warnings: list[str]
    # (k, cells, 3): per decision-maker and cell, over its whole input (not only the linked individuals):
    # valid rows, failed rows, and rows with a label but no decision (parity mode counts them as failures).
    input_counts: np.ndarray | None = None
    # Per linked individual, for multiplicity: decision token codes (N, k; -1 = unseen; with scores,
    # 1 = favourable), label codes (N,), scores (N, k) when a score column was given, and the token list.
    decisions: np.ndarray | None = None
    labels: np.ndarray | None = None
    scores: np.ndarray | None = None
    tokens: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LinkOptions:
    join: str = "inner"
    on_duplicate: str = "error"  # or "drop": drop every row of an ID that occurs twice in one input
    on_missing: str = "error"  # or "drop": drop rows with a missing ID, decision or label
    on_group_conflict: str = "error"  # or "missing": treat the individual's group as missing
    per_person: bool = False  # keep each linked individual's decisions, label and scores (multiplicity)


def _first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


def link(
    sources: list[Source],
    people: People | None,
    rule: FailureRule,
    attributes: list[str],
    options: LinkOptions = LinkOptions(),
) -> Linked:
    """Link the sources, apply the failure rule, resolve group attributes, and count every exclusion.

    The sources are consumed: each one's ID, decision and label arrays are released once coded, so a
    large audit does not hold its inputs twice.
    """
    if options.join not in JOINS:
        raise UsageError(f"unknown join '{options.join}'; expected inner or outer")
    names = [s.name for s in sources]
    if len(sources) < 2:
        raise UsageError(
            f"an audit needs at least 2 decision-makers; got {len(sources)} ({', '.join(names) or 'none'}). "
            "Give one file per decision-maker, or a wide/stacked file with --layout"
        )
    rule.validate(names)
    for attr in attributes:
        if not any(attr in s.groups for s in sources) and not (people and attr in people.groups):
            raise InputError(
                "group column not found in any input file nor in the people file",
                column=attr,
            )

    id_arrays = [s.ids for s in sources] + ([people.ids] if people else [])
    id_files = [s.file for s in sources] + ([people.file] if people else [])
    coded = code_ids(id_arrays, id_files)
    del id_arrays
    for s in sources:
        s.release("ids")
    codes, universe, warnings = coded.codes, coded.universe, list(coded.warnings)

    vocab = Vocabulary()
    people_label = np.full(universe, -1, dtype=np.int64)
    if people is not None:
        pcodes = codes[-1]
        _check_people_duplicates(pcodes, people.file)
        if people.label is not None:
            ok = pcodes >= 0
            people_label[pcodes[ok]] = vocab.encode(people.label)[ok]

    k = len(sources)
    # One contiguous column per decision-maker: random writes into it stay in cache far better than
    # writes into a column of an (N, k) matrix.
    fail_cols: list[np.ndarray] = []
    present_cols: list[np.ndarray] = []
    # Per-person decisions cost 8 bytes per individual and decision-maker: only multiplicity needs them.
    keep_people = options.per_person
    decision_u = np.full((universe, k), -1, dtype=np.int64) if keep_people else None
    label_u = np.full(universe, -1, dtype=np.int64) if keep_people else None
    has_scores = keep_people and any(s.score is not None for s in sources)
    score_u = np.full((universe, k), np.nan) if has_scores else None
    covs: list[SourceCoverage] = []
    unseen_codes: list[np.ndarray] = []  # per source: IDs of rows with a label but no decision (parity)
    dec_codes: list[np.ndarray] = []
    lab_codes: list[np.ndarray | None] = []
    dec_tokens: set[str] = set()
    lab_tokens: set[str] = set()
    for s in sources:
        if rule.uses_scores:
            dec_codes.append(np.zeros(s.rows, np.int64))
        else:
            codes_i, tokens_i = vocab.encode_tokens(s.decision)
            dec_codes.append(codes_i)
            dec_tokens |= tokens_i
            s.release("decision")
        if s.label is not None:
            codes_i, tokens_i = vocab.encode_tokens(s.label)
            lab_codes.append(codes_i)
            lab_tokens |= tokens_i
            s.release("label")
        else:
            lab_codes.append(None)

    if rule.needs_label and all(s.label is None for s in sources) and (people is None or people.label is None):
        raise UsageError(f"--failure {rule.kind} needs labels: pass --label COLUMN (or use --failure outcome)")
    if rule.needs_label:
        # A source without its own label column takes the people file's label for each ID.
        for i in range(len(sources)):
            if lab_codes[i] is None:
                lab_codes[i] = np.where(codes[i] >= 0, people_label[np.maximum(codes[i], 0)], -1)
                lab_tokens |= {vocab.tokens[c] for c in _used(lab_codes[i])}
    else:
        lab_tokens = set()
    resolved = resolve(rule, dec_tokens, lab_tokens)

    for i, s in enumerate(sources):
        cov = SourceCoverage(name=s.name, file=s.file, rows=s.rows)
        code = codes[i]
        valid = np.ones(s.rows, dtype=bool)

        miss_id = code < 0
        if miss_id.any() and options.on_missing == "error":
            raise InputError(
                f"{int(miss_id.sum())} rows have a missing or blank ID; fix them or pass --drop-missing",
                file=s.file, column=None, row=_first_row(miss_id),
            )
        cov.missing_id = int(miss_id.sum())
        valid &= ~miss_id

        if rule.uses_scores:
            scores = as_numbers(s.decision, s.file, "decision")
            dec_missing = np.isnan(scores)
        else:
            scores = None
            dec_missing = dec_codes[i] < 0
        dec_missing &= valid
        unlabelled = (lab_codes[i] < 0) if (rule.needs_label and lab_codes[i] is not None) else np.zeros(s.rows, bool)
        missing_cells = dec_missing & ~unlabelled  # parity mode counts these as failures
        if s.blank_is_unseen:
            cov.blank_cells = int(dec_missing.sum())
        else:
            if dec_missing.any() and options.on_missing == "error":
                raise InputError(
                    f"{int(dec_missing.sum())} rows have a missing decision; fix them or pass --drop-missing",
                    file=s.file, row=_first_row(dec_missing),
                )
            cov.missing_decision = int(dec_missing.sum())
        valid &= ~dec_missing

        lab = lab_codes[i]
        if rule.needs_label:
            assert lab is not None
            lab_missing = (lab < 0) & valid
            if lab_missing.any() and options.on_missing == "error":
                where = " in the people file" if s.label is None else ""
                raise InputError(
                    f"{int(lab_missing.sum())} rows have no label{where}; fix them or pass --drop-missing",
                    file=s.file, row=_first_row(lab_missing),
                )
            cov.missing_label = int(lab_missing.sum())
            valid &= ~lab_missing

        seen_col = np.zeros(universe, dtype=bool)
        seen_col[code[valid]] = True
        if np.count_nonzero(seen_col) != np.count_nonzero(valid):  # some ID occurs twice
            counts = np.bincount(code[valid], minlength=universe)
            dup = valid & (counts[np.maximum(code, 0)] > 1)
            n_ids = int((counts > 1).sum())
            if options.on_duplicate == "error":
                raise InputError(
                    f"{n_ids} IDs occur more than once ({int(dup.sum())} rows); each decision-maker may "
                    "decide once per individual. Fix the input or pass --duplicates drop",
                    file=s.file, row=_first_repeat_row(code, valid),
                )
            cov.duplicate_ids, cov.duplicate_rows = n_ids, int(dup.sum())
            valid &= ~dup
            seen_col[:] = False
            seen_col[code[valid]] = True

        pred = None
        if scores is not None:
            pred = favourable_from_scores(resolved, s.name, scores, coded.sort_keys(i), valid)
        f = failures(resolved, vocab, dec_codes[i], lab, pred)
        rows = code[valid]
        cov.valid_rows, cov.failed_rows = int(valid.sum()), int(f[valid].sum())
        fail_col = np.zeros(universe, dtype=bool)
        fail_col[rows] = f[valid]
        fail_cols.append(fail_col)
        present_cols.append(seen_col)
        if decision_u is not None:
            if not rule.uses_scores:
                decision_u[rows, i] = dec_codes[i][valid]
            else:
                decision_u[rows, i] = np.where(pred[valid], 1, 0) if pred is not None else -1
        if lab is not None and label_u is not None:
            label_u[rows] = np.where(label_u[rows] < 0, lab[valid], label_u[rows])
        if score_u is not None and s.score is not None:
            score_u[rows, i] = as_numbers(s.score, s.file, "score")[valid]
        covs.append(cov)
        unseen_codes.append(code[missing_cells & (code >= 0)])

    seen_by = np.zeros(universe, dtype=np.int32)
    for col in present_cols:
        seen_by += col
    keep = seen_by == k if options.join == "inner" else seen_by >= 2
    seen_any = seen_by > 0
    n_linked = int(keep.sum())
    for col, cov in zip(present_cols, covs, strict=True):
        cov.linked = int(np.count_nonzero(col & keep))
        cov.not_linked = int(np.count_nonzero(col)) - cov.linked
        cov.linked_individuals_unseen = n_linked - cov.linked

    coverage = Coverage(
        join=options.join, id_type=coded.id_type, sources=covs, individuals_seen=int(seen_any.sum()),
        linked=n_linked, excluded_by_join=int((seen_any & ~keep).sum()),
    )
    if n_linked == 0:
        need = "every decision-maker" if options.join == "inner" else "at least two decision-makers"
        hint = " (try --join outer)" if options.join == "inner" and (seen_by >= 2).any() else ""
        raise InputError(f"no individual is seen by {need}: nothing to audit{hint}. Check --id and the inputs")

    cell_u, cell_labels = _groups(sources, people, attributes, codes, keep, seen_any, universe, options, coverage)
    full = np.zeros((k, len(cell_labels), 3), dtype=np.int64)
    # A decision-maker's valid rows are exactly the IDs it is present for (duplicates were removed).
    for i, unseen in enumerate(unseen_codes):
        full[i, :, 0] = np.bincount(cell_u[present_cols[i]], minlength=len(cell_labels))
        full[i, :, 1] = np.bincount(cell_u[fail_cols[i]], minlength=len(cell_labels))
        unseen_cell = cell_u[unseen]
        full[i, :, 2] = np.bincount(unseen_cell[unseen_cell >= 0], minlength=len(cell_labels))
    if people is not None:
        pcodes = codes[-1]
        in_sources = np.zeros(universe, dtype=bool)
        in_sources[seen_any] = True
        matched = pcodes >= 0
        has_row = np.zeros(universe, dtype=bool)
        has_row[pcodes[matched]] = True
        coverage.people = PeopleCoverage(
            file=people.file, rows=people.rows,
            matched=int((matched & in_sources[np.maximum(pcodes, 0)]).sum()),
            not_matched=int((~matched | ~in_sources[np.maximum(pcodes, 0)]).sum()),
            linked_without_row=int((keep & ~has_row).sum()),
        )
    rows = np.flatnonzero(keep)
    return Linked(
        names=names, fail=np.column_stack([c[rows] for c in fail_cols]),
        present=np.column_stack([c[rows] for c in present_cols]), attributes=list(attributes),
        cell=cell_u[rows], cell_labels=cell_labels, ids=IdRows(coded, rows), coverage=coverage,
        rule=resolved, warnings=warnings, input_counts=full,
        decisions=None if decision_u is None else decision_u[rows],
        labels=None if label_u is None else label_u[rows],
        scores=None if score_u is None else score_u[rows],
        tokens=list(vocab.tokens),
    )


def _used(codes: np.ndarray) -> list[int]:
    """The distinct non-negative codes present (codes are small: vocabulary indices)."""
    return np.flatnonzero(np.bincount(codes[codes >= 0])).tolist()


def _first_repeat_row(code: np.ndarray, valid: np.ndarray) -> int:
    """1-based row of the first occurrence of an ID already seen above it (among valid rows)."""
    rows = np.flatnonzero(valid)
    _, first = np.unique(code[rows], return_index=True)
    repeat = np.ones(len(rows), dtype=bool)
    repeat[first] = False
    return int(rows[repeat][0]) + 1


def _check_people_duplicates(pcodes: np.ndarray, file: str) -> None:
    ok = pcodes >= 0
    counts = np.bincount(pcodes[ok]) if ok.any() else np.zeros(0, dtype=np.int64)
    if (counts > 1).any():
        raise InputError(
            f"{int((counts > 1).sum())} IDs occur more than once in the people file", file=file,
            row=_first_repeat_row(pcodes, ok),
        )


def _group_codes(arr: pa.ChunkedArray, vocab: dict[str, int]) -> np.ndarray:
    """Each row's group value as a code in `vocab` (-1 when missing or blank).

    Values compare as trimmed text (numbers as Arrow writes them); the work is done once per distinct
    value, not once per row.
    """
    def code_words(words: pa.Array) -> list[int]:
        if not pa.types.is_string(words.type) and not pa.types.is_large_string(words.type):
            words = pc.cast(words, pa.string())
        return [vocab.setdefault(w, len(vocab)) if w else -1 for w in pc.utf8_trim_whitespace(words).to_pylist()]

    mapping, indices = dictionary_codes(arr, code_words)
    return mapping[indices]


def _groups(
    sources: list[Source], people: People | None, attributes: list[str], codes: list[np.ndarray],
    keep: np.ndarray, seen: np.ndarray, universe: int, options: LinkOptions, coverage: Coverage,
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each ID's cell (one value per attribute; -1 if no input saw the ID) and the sorted cell labels.

    Cells are formed over every individual some decision-maker saw, so a group with no linked member
    still shows (as an empty group). Conflicts and missing values are counted over the linked ones.
    """
    if not attributes:
        return np.where(seen, 0, -1).astype(np.int64), [()]
    providers: list[tuple[str, dict[str, pa.ChunkedArray], np.ndarray]] = [
        (s.file, s.groups, codes[i]) for i, s in enumerate(sources)
    ]
    if people is not None:
        providers.append((people.file, people.groups, codes[-1]))
    per_attr = []
    for attr in attributes:
        vocab: dict[str, int] = {}
        # Narrow values keep the random reads and writes below in cache; widened if the values outgrow it.
        value = np.full(universe, -1, dtype=np.int8)
        differs = np.zeros(universe, dtype=bool)
        for _file, groups, code in providers:
            if attr not in groups:
                continue
            vals = _group_codes(groups[attr], vocab)
            if len(vocab) > np.iinfo(value.dtype).max:
                value = value.astype(np.int32)
            vals = vals.astype(value.dtype)
            ok = (code >= 0) & (vals >= 0)
            ids, vals = code[ok], vals[ok]
            # One value given for an ID stands; any other value is a conflict.
            current = value[ids]
            differs[ids[(current >= 0) & (current != vals)]] = True
            new = current < 0
            if not new.all():
                ids, vals = ids[new], vals[new]
            value[ids] = vals
            # Rows of one file giving an ID two values: only one of them was written.
            differs[ids[value[ids] != vals]] = True
        conflict = differs & keep
        if conflict.any():
            if options.on_group_conflict == "error":
                raise InputError(
                    f"{int(conflict.sum())} linked individuals have conflicting values of this group "
                    "attribute in different files; fix the inputs or pass --group-conflicts missing",
                    column=attr,
                )
            value[differs] = -1
        coverage.group_conflicts[attr] = int(conflict.sum())
        # Rank labels alphabetically so cell order never depends on row or file order.
        labels = sorted(vocab)
        rank = np.empty(len(vocab) + 1, dtype=np.int64)
        rank[-1] = -1
        for r, v in enumerate(labels):
            rank[vocab[v]] = r
        ranked = rank[value]
        coverage.missing_group[attr] = int((ranked[keep] < 0).sum()) - int(conflict.sum())
        per_attr.append((ranked, labels))
    # One integer key per individual (mixed radix over the attributes' ranks, missing = 0): a 1-D sort,
    # in label order because ranks are alphabetical and missing sorts first.
    key = np.zeros(int(seen.sum()), dtype=np.int64)
    for ranked, labels in per_attr:
        key = key * (len(labels) + 1) + (ranked[seen] + 1)
    ukeys, inverse = np.unique(key, return_inverse=True)
    cell_u = np.full(universe, -1, dtype=np.int64)
    cell_u[seen] = inverse.reshape(-1)
    cell_labels = []
    for k in ukeys.tolist():
        digits = []
        for _ranked, labels in reversed(per_attr):
            k, d = divmod(k, len(labels) + 1)
            digits.append(MISSING_GROUP if d == 0 else labels[d - 1])
        cell_labels.append(tuple(reversed(digits)))
    return cell_u, cell_labels
