"""Payload sources for `check`: JSON and NDJSON files, directories, HAR files and stdin, streamed.

`resolve` turns the command line's paths into sources, or raises UsageError for a path that
does not exist or a directory with nothing to read. `read` yields, source after source, a
`Payload` to check, a `Problem` (input that could not be read: one sentence naming the file and
line) or a `Note`; a problem never stops the other payloads from being read.

By suffix: ``.json`` one payload; ``.ndjson``/``.jsonl`` one payload per line, blank lines
skipped; ``.har`` the exchanges of this operation; a directory, its files with those suffixes
(not its subdirectories), sorted by name; ``-`` standard input, NDJSON or one JSON document;
any other file is read like standard input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ghl_contract.errors import UsageError
from ghl_contract.readers.document import read_document, unreadable
from ghl_contract.readers.har import read_har
from ghl_contract.readers.items import Item, Note, Payload, Problem
from ghl_contract.readers.ndjson import read_auto, read_ndjson

__all__ = ["STDIN", "SUFFIXES", "Item", "Note", "Payload", "Problem", "Source", "read", "resolve"]

STDIN = "-"
SUFFIXES = (".json", ".ndjson", ".jsonl", ".har")
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class Source:
    """One file to read (or standard input), named as the user will see it in findings."""

    name: str
    path: Path | None  # None: standard input


def resolve(paths: Sequence[str]) -> list[Source]:
    """The files behind `paths`, in order; a directory contributes its readable files, sorted."""
    sources: list[Source] = []
    if list(paths).count(STDIN) > 1:
        raise UsageError("Standard input (-) can be read only once; name it once.")
    for text in paths:
        if text == STDIN:
            sources.append(Source(STDIN_NAME, None))
            continue
        path = Path(text)
        if path.is_dir():
            try:
                files = sorted(p for p in path.iterdir()
                               if p.suffix.lower() in SUFFIXES and not p.is_dir())
            except OSError as exc:
                raise UsageError(f"The directory {text} cannot be listed "
                                 f"({exc.strerror or exc}).") from None
            if not files:
                raise UsageError(f"The directory {text} holds no {', '.join(SUFFIXES)} file.")
            sources.extend(Source(str(p), p) for p in files)
        elif path.exists():
            sources.append(Source(text, path))
        else:
            raise UsageError(f"{text} does not exist.")
    return sources


def read(sources: Iterable[Source], *, kind: str, status: int | None,
         stdin: Iterable[bytes]) -> Iterator[Item]:
    """Every payload, problem and note of `sources`, one source after the other, streamed."""
    for source in sources:
        if source.path is None:
            yield from read_auto(stdin, source.name, kind, status)
        else:
            yield from _read_file(source.path, source.name, kind, status)


def _read_file(path: Path, name: str, kind: str, status: int | None) -> Iterator[Item]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        yield from read_document(path, name, kind, status)
        return
    if suffix == ".har":
        yield from read_har(path, name)
        return
    lines: Callable[..., Iterator[Item]] = (
        read_ndjson if suffix in (".ndjson", ".jsonl") else read_auto)
    try:
        with path.open("rb") as stream:
            yield from lines(stream, name, kind, status)
    except OSError as exc:
        yield unreadable(name, exc)
