"""Link decision-makers' rows by individual ID into one failure matrix, counting everything left out.

IDs are compared as integers when every input stores them as integers (a CSV's IDs when each is written
as an integer is: `7`, not `007`; `ids.integer_ids`), otherwise as text with surrounding white space
removed, with a warning when some inputs hold integers and others text. `ids.code_ids` gives each distinct ID one code.

Join: ``inner`` (default) keeps individuals seen by every decision-maker; ``outer`` keeps everyone seen
by at least two, and each number then uses, for each person, the decision-makers that saw them.
Nothing is imputed: a decision-maker that did not see a person never counts as failing them.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import InputError, UsageError
from ..read.files import STDIN, ColumnTaker, read_header
from ..read.fingerprints import is_text
from ..read.sources import People, Source
from ..read.text_table import CodedIds
from ..spec import FailureRule, LinkOptions
from .id_codes import code_ids, recoded
from .linked import Linked
from .linker import Linker
from .stream_ids import IdStream


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
    names = [s.name for s in sources]
    _check_link(names, rule, attributes, options, [set(s.groups) for s in sources], people,
                _header_of(sources[0].file) if sources else None)
    id_arrays = [s.ids for s in sources] + ([people.ids] if people else [])
    id_files = [s.file for s in sources] + ([people.file] if people else [])
    coded = code_ids(id_arrays, id_files)
    del id_arrays
    for s in sources:
        s.release("ids")
    eco = Linker(len(sources), rule, attributes, options, coded.universe)
    if people is not None:
        eco.add_people(people, coded.codes[-1])
    for i, s in enumerate(sources):
        eco.add(i, s, coded.codes[i], lambda i=i: coded.sort_keys(i))
    return eco.finish(names, coded, list(coded.warnings))


class IdGate:
    """Wide IDs one input at a time: input i's ID column is read (`wait(i)`) only once input i - 1's IDs are
    coded (`coded(i - 1)`), so that the IDs of the input being coded and of the next one being read are never
    in memory together; the next input's other columns and its digest are read meanwhile.

    With `coder` (on the text route, `IdStream.codes_text_as_read`), the reading thread codes the IDs itself
    as it reads them, a few row groups at a time, so no input's IDs are ever held whole: the link takes
    the codes (`taken(i)`) where it would have parsed the IDs."""

    def __init__(self, inputs: int, coder: IdStream | None = None) -> None:
        self._coded = [threading.Event() for _ in range(inputs)]
        self._coder = coder
        self._taken: dict[int, CodedIds] = {}

    def wait(self, i: int) -> ColumnTaker | None:
        if i > 0:
            self._coded[i - 1].wait()
        if self._coder is None or not self._coder.codes_text_as_read():
            return None
        return lambda file, parts, rows: self._take(i, file, parts, rows)

    def _take(self, i: int, file: str, parts: Iterator[pa.ChunkedArray], rows: int) -> pa.ChunkedArray | None:
        """Code input i's IDs as read; IDs not held as text (numbers) are given back whole, to be parsed."""
        first = next(parts, None)
        if first is None:
            return pa.chunked_array([], pa.string())
        if not is_text(first.type):
            return pa.chunked_array([c for part in [first, *parts] for c in part.chunks], first.type)
        assert self._coder is not None
        self._taken[i] = self._coder.code_read(file, itertools.chain([first], parts), rows)
        return None

    def taken(self, i: int) -> CodedIds | None:
        """Input i's IDs, if they were coded as they were read (once: the link holds them then)."""
        return self._taken.pop(i, None)

    def coded(self, i: int) -> None:
        self._coded[i].set()

    def open(self) -> None:
        """Let every reader through (the link stopped: no reader may wait for it)."""
        for event in self._coded:
            event.set()


def link_streaming(
    loaders: list[Callable[[], Source]],
    names: list[str],
    people: People | None,
    rule: FailureRule,
    attributes: list[str],
    options: LinkOptions = LinkOptions(),
    headers: list[set[str]] | None = None,
    coder: IdStream | None = None,
    on_rows: Callable[[], None] = lambda: None,
    read_ahead: int = 1,
    gate: IdGate | None = None,
) -> Linked | None:
    """`link`, reading one decision-maker's input at a time (`loaders[i]()` reads input i).

    Only the per-individual state stays in memory (about a byte per individual and decision-maker, and
    what `coder` keeps per distinct ID: `stream_ids`), so inputs far larger than memory link in one pass.
    Any IDs stream; it returns None, and the caller links in memory, only where `IdStream.add` says the
    stream cannot give the in-memory link's answer. `headers` (each input's column names), when given, lets
    a group column that no input has stop the link before any is read; `on_rows` is called after those
    checks. `read_ahead`: how many inputs may be read (or being read) beside the one being linked, each
    holding its rows; they are read by up to as many threads as there are cores. `gate`: the loaders wait on
    it before reading their IDs (`IdGate`), and are told here when each input's IDs are coded.
    """
    _check_link(names, rule, attributes if headers is not None else [], options, headers or [], people,
                sorted(set().union(*headers)) if headers else None)
    on_rows()
    coder = coder if coder is not None else IdStream(ordered=rule.top_fraction is not None)
    keep_ids = rule.uses_scores  # a score rule may sort by ID text (top-fraction ties)
    eco: Linker | None = None

    people_codes = None
    if people is not None:
        got = coder.add(coder.parse(people.ids), people.file, lambda: np.zeros(coder.universe, bool))
        if got is None:
            return None
        people_codes = got[0]

    def used() -> np.ndarray:
        if eco is not None:
            return eco.used_codes()
        held = np.zeros(coder.universe, dtype=bool)
        if people_codes is not None:
            held[people_codes[people_codes >= 0]] = True
        return held

    def read(i: int) -> tuple[Source, Any]:
        s = loaders[i]()
        parsed = gate.taken(i) if gate is not None else None
        if parsed is None:
            parsed = s.parsed_ids if s.parsed_ids is not None else coder.parse(s.ids)
        if not keep_ids:
            s.release("ids")
        return s, parsed

    groups_seen: list[set[str]] = []
    ahead = max(1, read_ahead)
    # The next inputs are read, and their IDs parsed, while this one is linked; with more inputs ahead than
    # reading threads (one per core at most), a reader that finished starts the next while the link catches
    # up, so no core idles until the last input is read.
    with ThreadPoolExecutor(max_workers=min(ahead, os.cpu_count() or 1)) as reader:
        pending = deque(reader.submit(read, j) for j in range(min(ahead, len(loaders))))
        try:
            for i in range(len(loaders)):
                s, parsed = pending.popleft().result()
                if i + ahead < len(loaders):
                    pending.append(reader.submit(read, i + ahead))
                groups_seen.append(set(s.groups))
                got = coder.add(parsed, s.file, used)
                if gate is not None:
                    gate.coded(i)  # the next input's IDs may now be read
                if got is None or coder.universe == 0:
                    for later in pending:
                        later.cancel()
                    return None
                code, recode = got
                if eco is None:
                    if people is not None and people_codes is not None:
                        people_codes = recoded(people_codes, recode.shift, recode.mapping)
                    eco = Linker(len(loaders), rule, attributes, options, coder.universe)
                    if people is not None and people_codes is not None:
                        eco.add_people(people, people_codes)
                elif recode.moved or coder.universe != eco.universe:
                    eco.grow(recode.shift, coder.universe, recode.mapping)
                if keep_ids:
                    eco.add(i, s, code, lambda parsed=parsed, code=code, ids=s.ids: coder.sort_keys(parsed, code, ids))
                else:
                    del parsed  # the input's IDs, coded: their memory goes before the linking of its rows
                    eco.add(i, s, code, _no_sort_keys)
                del s, code
        finally:
            if gate is not None:
                gate.open()  # before the pool waits for its readers: none may wait for a link that stopped
    _check_link(names, rule, attributes, options, groups_seen, people)
    assert eco is not None
    coded = coder.id_codes()
    coder.release()
    return eco.finish(names, coded, list(coded.warnings))


def _no_sort_keys() -> Any:
    raise AssertionError("only a rule that uses scores sorts by ID")


def _check_link(
    names: list[str], rule: FailureRule, attributes: list[str], options: LinkOptions,
    source_groups: list[set[str]], people: People | None, columns: list[str] | None = None,
) -> None:
    """Refuse what cannot be linked; `columns` (an input's header, when known) is listed when a group
    column is nowhere to be found."""
    if len(names) < 2:
        raise UsageError(
            f"an audit needs at least 2 decision-makers; got {len(names)} ({', '.join(names) or 'none'}). "
            "Give one file per decision-maker, or a wide/stacked file with {layout}"
        )
    rule.validate(names)
    for attr in attributes:
        if not any(attr in g for g in source_groups) and not (people and attr in people.groups):
            shown = ""
            if columns:
                shown = "; the inputs have: " + ", ".join(c[:40] or "''" for c in columns[:12]) + (
                    ", ..." if len(columns) > 12 else "")
            raise InputError(f"group column not found in any input file nor in the people file{shown}", column=attr)


def _header_of(path: str) -> list[str] | None:
    """A file's column names, to list in an error (None for standard input, a pipe, or a file gone)."""
    try:
        return read_header(path) if path != STDIN else None
    except (InputError, OSError):
        return None
