"""A JSON file: one payload, whatever its top-level type, read whole within the document limit.

A top-level array is one payload that is an array (for a response, a type-changed finding), not
a list of payloads: a captured body `[]` must not pass as "nothing to check". Many payloads go
one per line in an .ndjson file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import orjson

from ghl_contract.readers.items import Item, Limits, Payload, Problem
from ghl_contract.settings import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, MAX_VALUES

_DEPTH_EXCEEDED = "depth limit exceeded"  # orjson's words for JSON nested past 1024 levels


def unreadable(name: str, exc: OSError) -> Problem:
    return Problem(f"{name} cannot be read ({exc.strerror or exc}).")


def too_large(name: str, limit: int) -> Problem:
    return Problem(f"{name} is larger than {MAX_DOCUMENT_BYTES.shown(limit)}, the most a .json "
                   f"or .har file or a document on standard input is read whole (raise it with "
                   f"{MAX_DOCUMENT_BYTES.flag}); NDJSON is read line by line whatever its size.")


def too_long(where: str, limit: int) -> str:
    return (f"{where} is longer than {MAX_LINE_BYTES.shown(limit)}, the most a line may have "
            f"(raise it with {MAX_LINE_BYTES.flag}); {where.rsplit(':', 1)[0]} was not read "
            "past it.")


def too_many_values(where: str, text: bytes, limit: int) -> str | None:
    """Why `text` is not parsed, when it has more than `limit` brackets, commas and colons
    (about two a value; those in strings count too): counted before any parsing, at the speed
    of a byte search, as what parsing costs in memory grows with them."""
    if len(text) <= limit:  # each is a byte: nothing to count
        return None
    count = text.count(b"[") + text.count(b"{") + text.count(b",") + text.count(b":")
    if count <= limit:
        return None
    return (f"{where} has {count:,} brackets, commas and colons, more than the {limit:,} one "
            f"line, document or body may have to be parsed (raise it with {MAX_VALUES.flag}).")


def not_json(where: str, exc: orjson.JSONDecodeError, at: str) -> str:
    """Why `where` is not JSON, one sentence; `at`: where in it (``line 2 column 5``)."""
    if exc.msg == _DEPTH_EXCEEDED:
        return (f"{where} nests arrays or objects more than 1024 levels deep, past what the JSON "
                "parser reads.")
    return f"{where} is not valid JSON ({exc.msg} at {at})."


def read_whole(path: Path, name: str, limit: int) -> bytes | Problem:
    """The bytes of `path`, byte-order mark removed, or the problem: unreadable or over `limit`.

    A regular file over the limit is refused by its size, unread; anything else (a pipe, a
    device) is read up to one byte past the limit.
    """
    try:
        with path.open("rb") as stream:
            info = os.fstat(stream.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                return too_large(name, limit)
            text = stream.read(limit + 1)
    except OSError as exc:
        return unreadable(name, exc)
    if len(text) > limit:
        return too_large(name, limit)
    return text.removeprefix(b"\xef\xbb\xbf")


def read_document(path: Path, name: str, kind: str, status: int | None,
                  limits: Limits) -> Iterator[Item]:
    text = read_whole(path, name, limits.document)
    if isinstance(text, Problem):
        yield text
        return
    if not text.strip():
        yield Problem(f"{name} is empty.")
        return
    crowded = too_many_values(name, text, limits.values)
    if crowded:
        yield Problem(crowded)
        return
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        problem = not_json(name, exc, f"line {exc.lineno} column {exc.colno}")
        if exc.msg == "unexpected content after document":
            problem = problem[:-1] + "; one payload per line belongs in an .ndjson file."
        yield Problem(problem)
        return
    yield Payload(data, kind, name, status)
