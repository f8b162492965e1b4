"""A JSON file: one payload, whatever its top-level type.

A top-level array is one payload that is an array (for a response, a type-changed finding), not
a list of payloads: a captured body `[]` must not pass as "nothing to check". Many payloads go
one per line in an .ndjson file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from ghl_contract.readers.items import Item, Payload, Problem


def unreadable(name: str, exc: OSError) -> Problem:
    return Problem(f"{name} cannot be read ({exc.strerror or exc}).")


def read_document(path: Path, name: str, kind: str, status: int | None) -> Iterator[Item]:
    try:
        text = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    except OSError as exc:
        yield unreadable(name, exc)
        return
    if not text.strip():
        yield Problem(f"{name} is empty.")
        return
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        hint = ("; one payload per line belongs in an .ndjson file"
                if exc.msg == "unexpected content after document" else "")
        yield Problem(f"{name} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                      f"{exc.colno}){hint}.")
        return
    yield Payload(data, kind, name, status)
