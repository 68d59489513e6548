"""The end of linking: the rule resolved, the failure matrix of the linked individuals, cells and coverage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .answers import answer_table, wants_answers
from .coverage import Coverage, PeopleCoverage, missing_decisions_message
from .failures import ResolvedRule, failures, in_population, resolve
from .group_values import cells
from .id_codes import IdCodes
from .linked import IdRows, Linked
from .reduce import count_by_key

if TYPE_CHECKING:
    from .linker import Linker


def failure_matrix(linker: Linker, names: list[str], coded: IdCodes, warnings: list[str]) -> Linked:
    """Resolve the rule, form the failure matrix of the linked individuals, their cells and coverage."""
    options, k, universe = linker.options, linker.k, linker.universe
    if linker.missing_decisions:
        file, _, row = linker.missing_decisions[0]
        total = sum(n for _, n, _ in linker.missing_decisions)
        raise InputError(missing_decisions_message(total, len(linker.missing_decisions), k), file=file, row=row)
    resolved = resolve(linker.rule, linker.dec_tokens, linker.lab_tokens if linker.rule.needs_label else set())
    # A decision-maker "sees" a person when it has a valid row for them that the rule can fail: under a
    # conditional false-negative (false-positive) rule, rows whose label is not (is) favourable are outside
    # the rule's population, counted apart, and take no part in any number.
    failing, counts_in = kind_flags(linker, resolved)
    if resolved.rule.conditional:
        for cov, col in zip(linker.covs, linker.kind_cols, strict=True):
            cov.outside_population = int(np.count_nonzero((col >= 0) & ~counts_in[col]))
            cov.valid_rows -= cov.outside_population
    # Each individual's failures (bit i) and presence (bit k + i) in one integer, when 2k bits fit in one.
    bits, fail_cols, present_cols = None, [], []
    if 2 * k <= 62:
        bits = np.zeros(universe, dtype=np.int32 if 2 * k <= 31 else np.int64)
        for i, col in enumerate(linker.kind_cols):
            table = np.where(failing, 1 << i, 0) | np.where(counts_in, 1 << (k + i), 0)
            bits |= table.astype(bits.dtype)[col]
        seen_by = _popcount(bits >> k, k)
    else:
        for col in linker.kind_cols:
            fail_cols.append(failing[col])
            present_cols.append(counts_in[col])
        seen_by = np.sum(present_cols, axis=0, dtype=np.int32)
    keep_answers = wants_answers(resolved, options.answers)
    if not keep_answers:
        linker.kind_cols = []
    keep = seen_by == k if options.join == "inner" else seen_by >= 2
    seen_any = seen_by > 0
    n_linked = int(keep.sum())
    coverage = Coverage(
        join=options.join, id_type=coded.id_type, sources=linker.covs, individuals_seen=int(seen_any.sum()),
        linked=n_linked, excluded_by_join=int((seen_any & ~keep).sum()),
    )
    if n_linked == 0:
        need = "every decision-maker" if options.join == "inner" else "at least two decision-makers"
        hint = " (try {link.join=outer})" if options.join == "inner" and (seen_by >= 2).any() else ""
        hint += "".join(f" ({w})" for w in coded.warnings if "do not match" in w)
        raise InputError(f"no individual is seen by {need}: nothing to audit{hint}. "
                         "Check {columns.id} and the inputs")

    cell_u, cell_labels = cells(linker.groups, keep, seen_any, options, coverage)
    n_cells = len(cell_labels)
    # Everyone some input saw, as distinct (failures, presence, cell) rows with their counts: the
    # coverage and the whole-input counts are sums over these few rows.
    if bits is not None:
        row_bits, row_cell, counts = count_by_key(bits[seen_any], cell_u[seen_any], k, n_cells)
        row_fail = (row_bits[:, None] >> np.arange(k)) & 1 == 1
        row_present = (row_bits[:, None] >> np.arange(k, 2 * k)) & 1 == 1
    else:
        row_fail = np.column_stack([c[seen_any] for c in fail_cols])
        row_present = np.column_stack([c[seen_any] for c in present_cols])
        row_cell, counts = cell_u[seen_any], np.ones(int(seen_any.sum()), dtype=np.int64)
    row_seen_by = row_present.sum(axis=1)
    row_keep = row_seen_by == k if options.join == "inner" else row_seen_by >= 2
    full = np.zeros((k, n_cells, 3), dtype=np.int64)
    # A decision-maker's valid rows are exactly the IDs it is present for (duplicates were removed).
    for i, (cov, unseen) in enumerate(zip(linker.covs, linker.unseen, strict=True)):
        full[i, :, 0] = np.bincount(row_cell, weights=counts * row_present[:, i], minlength=n_cells).round()
        full[i, :, 1] = np.bincount(row_cell, weights=counts * row_fail[:, i], minlength=n_cells).round()
        unseen_cell = cell_u[unseen]
        full[i, :, 2] = np.bincount(unseen_cell[unseen_cell >= 0], minlength=n_cells)
        cov.failed_rows = int(counts @ row_fail[:, i])
        cov.linked = int(counts @ (row_present[:, i] & row_keep))
        cov.not_linked = int(counts @ row_present[:, i]) - cov.linked
        cov.linked_individuals_unseen = n_linked - cov.linked
    if linker.people is not None:
        pcodes = linker.people_codes
        matched = pcodes >= 0
        has_row = np.zeros(universe, dtype=bool)
        has_row[pcodes[matched]] = True
        in_sources = matched & seen_any[np.maximum(pcodes, 0)]
        coverage.people = PeopleCoverage(
            file=linker.people.file, rows=linker.people.rows, matched=int(in_sources.sum()),
            not_matched=int((~in_sources).sum()), linked_without_row=int((keep & ~has_row).sum()),
        )
    rows = np.flatnonzero(keep)
    answers = answer_table(linker, rows, cell_u[rows], options.answers) if keep_answers else None
    linker.kind_cols = []
    per_person = options.per_person
    return Linked(
        names=names,
        bits=None if bits is None else bits[rows].astype(np.int64),
        # The linked individuals' pattern counts come with the rows above: no second count over them.
        pattern_rows=None if bits is None else (row_bits[row_keep], row_cell[row_keep], counts[row_keep]),
        matrices=None if bits is not None else (np.column_stack([c[rows] for c in fail_cols]),
                                                np.column_stack([c[rows] for c in present_cols])),
        attributes=list(linker.groups),
        cell=cell_u[rows], cell_labels=cell_labels, ids=IdRows(coded, rows), coverage=coverage,
        rule=resolved, warnings=warnings, input_counts=full,
        decisions=np.column_stack([d[rows] for d in linker.decisions]) if per_person else None,
        labels=None if linker.labels is None else linker.labels[rows],
        scores=(np.stack([np.full(len(rows), np.nan) if s is None else s[rows] for s in linker.scores], axis=1)
                if per_person and any(s is not None for s in linker.scores) else None),
        tokens=list(linker.vocab.tokens), answers=answers,
    )


def _popcount(words: np.ndarray, width: int) -> np.ndarray:
    """Set bits per element (of the low `width` bits)."""
    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(words)
    count = np.zeros(len(words), dtype=np.uint8)
    for j in range(width):
        count += ((words >> j) & 1).astype(np.uint8)
    return count


def kind_flags(linker: Linker, resolved: ResolvedRule) -> tuple[np.ndarray, np.ndarray]:
    """Per kind, with False appended for the index -1 (no valid row): whether a row of it is a failure, and
    whether it counts at all (a conditional false-negative or false-positive rule counts only the people
    it can fail: `failures.in_population`)."""
    dec = linker.kind_table(0)[:-1]
    lab = linker.kind_table(1)[:-1] if linker.rule.needs_label else None
    pred = dec == 1 if linker.rule.uses_scores else None
    failing = np.asarray(failures(resolved, linker.vocab, dec, lab, pred), dtype=bool)
    # A decision kept though missing (missing_decision = fail, as LLM evaluations score an answer that could
    # not be extracted): a failure under every rule but false-positive (no favourable decision was given).
    failing[dec < 0] = resolved.rule.kind != "false-positive"
    counts = in_population(resolved, linker.vocab, lab)
    counts = np.ones(len(dec), dtype=bool) if counts is None else np.asarray(counts, dtype=bool)
    return np.append(failing & counts, False), np.append(counts, False)
