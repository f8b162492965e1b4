"""NDJSON (one payload per line) and input of unknown shape (stdin): streamed line by line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain

import orjson

from ghl_contract.readers.items import Item, Payload, Problem

_BOM = b"\xef\xbb\xbf"


def line_problem(name: str, lineno: int, line: bytes) -> Problem:
    """The problem with a line that is not JSON, its column counted without the line break."""
    try:
        orjson.loads(line.rstrip(b"\r\n"))
    except orjson.JSONDecodeError as exc:
        return Problem(f"{name}:{lineno} is not valid JSON ({exc.msg} at column {exc.colno}).")
    return Problem(f"{name}:{lineno} is not valid JSON.")  # pragma: no cover - parsed above


def read_lines(lines: Iterable[bytes], name: str, kind: str, status: int | None,
               start: int = 1) -> Iterator[Item]:
    """One payload per non-blank line; a line that is not JSON is a problem, the rest go on.

    This loop is the hot path of `check` over large captures: it holds one line at a time.
    """
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for lineno, line in enumerate(lines, start):
        if not line or line.isspace():
            continue
        try:
            data = loads(line)
        except decode_error:
            yield line_problem(name, lineno, line)
            continue
        yield Payload(data, kind, f"{name}:{lineno}", status)


def read_ndjson(stream: Iterable[bytes], name: str, kind: str,
                status: int | None) -> Iterator[Item]:
    lines = iter(stream)
    first = next(lines, b"")
    if not first:
        return
    yield from read_lines(chain((first.removeprefix(_BOM),), lines), name, kind, status)


def read_auto(stream: Iterable[bytes], name: str, kind: str, status: int | None) -> Iterator[Item]:
    """NDJSON, or a single JSON document spread over lines (a pretty-printed payload).

    The first non-blank line decides: JSON on its own means NDJSON; JSON cut short at the end of
    the line means a multi-line document, read whole. A document that then fails to parse is
    read again as NDJSON, so each bad line is named.
    """
    lines = iter(stream)
    lineno = 0
    for lineno, line in enumerate(lines, 1):
        if not line.isspace():
            first = line.removeprefix(_BOM) if lineno == 1 else line
            break
    else:
        return
    try:
        data = orjson.loads(first)
    except orjson.JSONDecodeError as exc:
        if not exc.msg.startswith("unexpected end of data"):
            yield line_problem(name, lineno, first)
            yield from read_lines(lines, name, kind, status, lineno + 1)
            return
        rest = [first, *lines]
        try:
            data = orjson.loads(b"".join(rest))
        except orjson.JSONDecodeError:
            yield from read_lines(rest, name, kind, status, lineno)
            return
        yield Payload(data, kind, name, status)
        return
    yield Payload(data, kind, f"{name}:{lineno}", status)
    yield from read_lines(lines, name, kind, status, lineno + 1)
