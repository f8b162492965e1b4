"""Payload sources for `check`: JSON and NDJSON files, directories, HAR files and stdin, streamed.

`resolve` turns the command line's paths into sources, named as the user will read them (a file
name that is not UTF-8 shows its odd bytes as ``\\xff``). A path that does not exist, a directory
that cannot be listed or holds nothing to read becomes a source that only carries its problem, so
that the other paths are still read; when no path gives anything to read, it raises UsageError.
`read` yields, source after source, a `Payload` to check, `Lines` of NDJSON to check (consume
them before the next item: the file is open while they are read), a `Problem` (input that could
not be read: one sentence naming the file and line) or a `Note`; a problem never stops the other
sources from being read. Nothing is read whole past its limit (`Limits`).

By suffix: ``.json`` one payload; ``.ndjson``/``.jsonl`` one payload per line, blank lines
skipped; ``.har`` the exchanges of the manifest's operations; a directory, its files with those
suffixes (not its subdirectories), sorted by name; ``-`` standard input, NDJSON or one JSON
document; any other file is read like standard input.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ghl_contract.errors import UsageError
from ghl_contract.operations import Manifest
from ghl_contract.readers.document import read_document, unreadable
from ghl_contract.readers.har import read_har
from ghl_contract.readers.items import (
    InputProblem,
    Item,
    Limits,
    Lines,
    Note,
    Parameters,
    Payload,
    Problem,
)
from ghl_contract.readers.ndjson import LineStream, read_auto, read_ndjson

__all__ = ["STDIN", "SUFFIXES", "InputProblem", "Item", "Limits", "Lines", "Note", "Parameters",
           "Payload", "Problem", "Source", "read", "resolve", "shown_name"]

STDIN = "-"
SUFFIXES = (".json", ".ndjson", ".jsonl", ".har")
STDIN_NAME = "<stdin>"
# An NDJSON file's read buffer: with the default 8 KiB, reading costs a system call every two or
# three documented payloads, a tenth of what checking them costs.
READ_BUFFER = 1 << 20


@dataclass(frozen=True)
class Source:
    """One file to read (or standard input), named as the user will see it in findings."""

    name: str
    path: Path | None  # None: standard input, or nothing to read when `problem` is set
    problem: str | None = None  # why this path gives nothing to read, one sentence


def shown_name(text: str) -> str:
    """A path as findings and messages name it. A file name that is not UTF-8 arrives with its
    odd bytes as lone surrogates (Python's surrogateescape), which no UTF-8 output can carry:
    they are shown escaped, ``r\\xff.json``; the path itself stays as given, to open the file."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def resolve(paths: Sequence[str]) -> list[Source]:
    """The files behind `paths`, in order; a directory contributes its readable files, sorted.

    A path with nothing to read is kept, in its place, as a source carrying its problem; only
    when no path has anything to read is the first problem a UsageError.
    """
    sources: list[Source] = []
    if list(paths).count(STDIN) > 1:
        raise UsageError("Standard input (-) can be read only once; name it once.")
    for text in paths:
        if text == STDIN:
            sources.append(Source(STDIN_NAME, None))
        else:
            sources.extend(_resolve_path(text, shown_name(text)))
    if sources and all(source.problem for source in sources):
        raise UsageError(str(sources[0].problem))
    return sources


def _resolve_path(text: str, name: str) -> list[Source]:
    path = Path(text)
    try:
        is_dir = stat.S_ISDIR(path.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return [_problem(name, f"{name} does not exist.")]
    except OSError as exc:
        return [_problem(name, f"{name} cannot be read ({exc.strerror or exc}).")]
    if not is_dir:
        return [Source(name, path)]
    try:
        files = sorted(p for p in path.iterdir()
                       if p.suffix.lower() in SUFFIXES and not p.is_dir())
    except OSError as exc:
        return [_problem(name, f"The directory {name} cannot be listed "
                               f"({exc.strerror or exc}).")]
    if not files:
        return [_problem(name, f"The directory {name} holds no {', '.join(SUFFIXES)} file.")]
    return [Source(shown_name(str(p)), p) for p in files]


def _problem(text: str, problem: str) -> Source:
    return Source(text, None, problem)


def read(sources: Iterable[Source], *, kind: str, status: int | None,
         stdin: LineStream | None, manifest: Manifest,
         limits: Limits | None = None, base_url: str | None = None) -> Iterator[Item]:
    """Every payload, problem and note of `sources`, one source after the other, streamed;
    `stdin`: standard input as bytes (None: a source `-` is a usage error); `manifest`: the
    operations HAR entries are matched against; `base_url`: the API whose HAR entries are
    judged (None: any host)."""
    limits = limits or Limits()
    for source in sources:
        if source.problem is not None:
            yield Problem(source.problem)
        elif source.path is None:
            if stdin is None:
                raise UsageError("Standard input (-) is not available to this process.")
            yield from read_auto(stdin, source.name, kind, status, limits)
        else:
            yield from _read_file(source.path, source.name, kind, status, manifest, limits,
                                  base_url)


def _read_file(path: Path, name: str, kind: str, status: int | None, manifest: Manifest,
               limits: Limits, base_url: str | None) -> Iterator[Item]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        yield from read_document(path, name, kind, status, limits)
        return
    if suffix == ".har":
        yield from read_har(path, name, manifest, limits, base_url)
        return
    try:
        with path.open("rb", buffering=READ_BUFFER) as stream:
            if suffix in (".ndjson", ".jsonl"):
                yield from read_ndjson(stream, name, kind, status, limits)
            else:
                yield from read_auto(stream, name, kind, status, limits)
    except OSError as exc:
        yield unreadable(name, exc)
