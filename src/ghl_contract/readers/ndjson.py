"""NDJSON (one payload per line) and input of unknown shape (stdin): streamed line by line.

Each line is read with a bound (`settings.MAX_LINE_BYTES`): a longer one is an input problem
and ends the reading of its source, so an endless line (`check - < /dev/zero`) costs no more
memory than the bound. The lines themselves are parsed by the checker (`readers.Lines`).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import Protocol

import orjson

from ghl_contract.readers.document import (
    not_json,
    too_large,
    too_long,
    too_many_values,
    unreadable,
)
from ghl_contract.readers.items import InputProblem, Item, Limits, Lines, Payload, Problem

_BOM = b"\xef\xbb\xbf"


class LineStream(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def line_problem(name: str, lineno: int, line: bytes) -> Problem:
    """The problem with a line that is not JSON, its column counted without the line break."""
    try:
        orjson.loads(line.rstrip(b"\r\n"))
    except orjson.JSONDecodeError as exc:
        return Problem(not_json(f"{name}:{lineno}", exc, f"column {exc.colno}"))
    return Problem(f"{name}:{lineno} is not valid JSON.")  # pragma: no cover - parsed above


def bounded_lines(stream: LineStream, name: str, limit: int, start: int = 1) -> Iterator[bytes]:
    """The lines of `stream`, line breaks included, each at most `limit` bytes besides its line
    break; a longer line or a read error raises InputProblem, and nothing after it is read."""
    readline = stream.readline
    lineno = start
    try:
        while line := readline(limit + 1):
            if len(line) > limit and line[-1] != 10:  # no line break within the limit
                raise InputProblem(too_long(f"{name}:{lineno}", limit))
            yield line
            lineno += 1
    except OSError as exc:
        raise InputProblem(unreadable(name, exc).message) from None


def read_ndjson(stream: LineStream, name: str, kind: str, status: int | None,
                limits: Limits) -> Iterator[Item]:
    lines = bounded_lines(stream, name, limits.line)
    try:
        first = next(lines, None)
    except InputProblem as exc:
        yield Problem(str(exc))
        return
    if first is not None:
        yield Lines(chain((first.removeprefix(_BOM),), lines), name, 1, kind, status,
                    limits.values)


def read_auto(stream: LineStream, name: str, kind: str, status: int | None,
              limits: Limits) -> Iterator[Item]:
    """NDJSON, or a single JSON document spread over lines (a pretty-printed payload).

    The first non-blank line decides: JSON on its own means NDJSON; JSON cut short at the end of
    the line means a multi-line document, read whole (at most `limits.document` bytes). A
    document that then fails to parse is read again as NDJSON, so each bad line is named. A first
    line that is not JSON at all (a README, a log) means the input is not a payload: one problem
    for the whole of it, not one per line.
    """
    lines = bounded_lines(stream, name, limits.line)
    try:
        for lineno, line in enumerate(lines, 1):
            if not line.isspace():
                first = line.removeprefix(_BOM) if lineno == 1 else line
                break
        else:
            return
    except InputProblem as exc:
        yield Problem(str(exc))
        return
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("unexpected end of data"):
            yield from _document(first, lines, name, lineno, kind, status, limits)
            return
        ahead = _ahead(lines)
        if not any(_is_json(line) for line in ahead):
            yield Problem(f"{name} is neither JSON nor NDJSON: its line {lineno} is not JSON "
                          f"({exc.msg}), nor are the lines after it; give a payload, a .json, "
                          ".ndjson or .har file.")
            return
        lines = chain(ahead, lines)
    yield Lines(chain((first,), lines), name, lineno, kind, status, limits.values)


# Lines looked at past a first line that is not JSON: NDJSON with a bad line still has JSON in
# them; a README or a log has none.
LOOK_AHEAD = 5


def _ahead(lines: Iterator[bytes]) -> list[bytes]:
    """The next lines, up to LOOK_AHEAD that are not blank (blank ones kept for numbering)."""
    seen: list[bytes] = []
    content = 0
    for line in lines:
        seen.append(line)
        content += not line.isspace()
        if content >= LOOK_AHEAD:
            break
    return seen


def _is_json(line: bytes) -> bool:
    if line.isspace():
        return False
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _document(first: bytes, lines: Iterator[bytes], name: str, lineno: int, kind: str,
              status: int | None, limits: Limits) -> Iterator[Item]:
    whole, size = [first], len(first)
    try:
        for line in lines:
            size += len(line)
            if size > limits.document:
                yield too_large(name, limits.document)
                return
            whole.append(line)
    except InputProblem as exc:
        yield Problem(str(exc))
        return
    text = b"".join(whole)
    crowded = too_many_values(name, text, limits.values)
    if crowded:
        yield Problem(crowded)
        return
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        yield Lines(iter(whole), name, lineno, kind, status, limits.values)
        return
    yield Payload(data, kind, name, status)
