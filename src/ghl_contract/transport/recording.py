"""HAR 1.2 recording of a run's exchanges (an `on_exchange` hook): redacted, bounded, whole after
every entry.

Each entry is written over the closing brackets together with a fresh copy of them, in one write,
so a run killed mid-way leaves the entries so far. A body longer than `max_body` is cut there and
says so (`content.comment`, `_cut`): a stream of zeros makes a short recording, not a huge one.
The caller's annotation of a request (`Exchange.note`) is kept under `_ghl`; `check` reads
`_ghl.expect` back to judge a request meant to be refused by whether the server refused it.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from ghl_contract import __version__
from ghl_contract.errors import UsageError
from ghl_contract.redact import Redactor, redactor
from ghl_contract.transport.exchange import Exchange
from ghl_contract.transport.limits import MiB

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FILE_NAME = "exchanges.har"
DEFAULT_MAX_BODY = 1 * MiB
ANNOTATION = "_ghl"
_HEAD = {"log": {"version": "1.2", "creator": {"name": "ghl-contract", "version": __version__},
                 "entries": []}}
_TAIL = b"\n]}}\n"


# Control characters JSON writes as \u0000, six times their size: a body of them goes as base64.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(data: bytes) -> tuple[str, str | None]:
    """HAR carries text: UTF-8 as is, anything else (or control characters) base64 (HAR's
    `encoding`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _CONTROL.search(text):
        return text, None
    return base64.b64encode(data).decode("ascii"), "base64"


def _status_text(status: int | None) -> str:
    try:
        return HTTPStatus(status).phrase if status else ""
    except ValueError:
        return ""


def _body(data: bytes, max_body: int, what: dict[str, Any]) -> dict[str, Any]:
    """`what` (postData or content) with the body's text, cut at `max_body` bytes."""
    if len(data) > max_body:
        what["comment"] = (f"Cut at {max_body} of {len(data)} bytes (--max-recorded-body); "
                           "the client read more.")
        what["_cut"] = True
        data = data[:max_body]
    text, encoding = _text(data)
    what["text"] = text
    if encoding:
        what["encoding"] = encoding
    return what


def har_entry(exchange: Exchange, redact: Redactor, max_body: int = DEFAULT_MAX_BODY
              ) -> dict[str, Any]:
    """One exchange as a HAR 1.2 entry, every value redacted again here (a recording is safe on
    its own). An exchange without an answer has status 0 (what browsers record); its findings are
    kept in `_faults`, and `_write` says whether it took a write budget slot."""
    started = datetime.fromtimestamp(exchange.started_at or 0, UTC)
    millis = round(exchange.elapsed * 1000, 3)
    request_body = redact.bytes(exchange.request_body)
    response_body = redact.bytes(exchange.response_body)
    entry: dict[str, Any] = {
        "startedDateTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": millis,
        "request": {
            "method": exchange.method,
            "url": redact.text(exchange.url),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _headers(exchange.request_headers.items(), redact),
            "queryString": [{"name": name, "value": value}
                            for name, value in parse_qsl(urlsplit(exchange.url).query)],
            "headersSize": -1,
            "bodySize": len(exchange.request_body),
        },
        "response": {
            "status": exchange.status or 0,
            "statusText": _status_text(exchange.status),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _headers(exchange.response_headers.items(), redact),
            "content": _body(response_body, max_body, {
                "size": len(exchange.response_body),
                "mimeType": exchange.response_headers.get("content-type", ""),
            }),
            "redirectURL": redact.text(exchange.response_headers.get("location", "")),
            "headersSize": -1,
            "bodySize": len(exchange.response_body) if exchange.status else -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": millis, "receive": 0},
        "_write": exchange.write,
        "_faults": [f.to_dict() for f in exchange.faults],
    }
    if exchange.request_body or exchange.method not in ("GET", "HEAD", "DELETE"):
        post = _body(request_body, max_body,
                     {"mimeType": exchange.request_headers.get("content-type", "")})
        if "encoding" in post:  # HAR's postData has no `encoding` of its own
            post["_encoding"] = post.pop("encoding")
        entry["request"]["postData"] = post
    if exchange.note is not None:
        entry[ANNOTATION] = redact.value(dict(exchange.note))
    return entry


def _headers(items: Iterable[tuple[str, str]], redact: Redactor) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in redact.headers(items)]


class HarRecorder:
    """Appends each exchange to `record_dir/exchanges.har` (a new run replaces the last one), which
    stays valid HAR after every entry. Call it with an exchange; close it at the end."""

    def __init__(self, record_dir: Path, secrets: Iterable[str | None] = (), *,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        self.path = record_dir / FILE_NAME
        self._redact, self._max_body = redactor(secrets), max_body
        try:
            record_dir.mkdir(parents=True, exist_ok=True)
            self._file: IO[bytes] = os.fdopen(
                os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666), "r+b")
        except OSError as exc:
            raise UsageError(f"--record {record_dir}: cannot write {self.path} "
                             f"({exc.strerror or exc}).") from None
        if not _lock(self._file):
            self._file.close()
            raise UsageError(f"--record {record_dir}: another run is writing {self.path}; give "
                             "each run its own directory.")
        self._file.truncate(0)
        head = orjson.dumps(_HEAD, option=orjson.OPT_INDENT_2)
        head = head[: head.rindex(b"[") + 1]  # up to the entries' opening bracket
        self._file.write(head + _TAIL)
        self._file.flush()
        self._tail_at, self._empty = len(head), True

    def __enter__(self) -> HarRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __call__(self, exchange: Exchange) -> None:
        if self._file.closed:
            return
        entry = orjson.dumps(har_entry(exchange, self._redact, self._max_body))
        # The entry was redacted field by field; this pass catches a secret in any other field.
        chunk = (b"\n" if self._empty else b",\n") + self._redact.bytes(entry) + _TAIL
        self._file.seek(self._tail_at)
        self._file.write(chunk)  # one write: the file is whole before and after it
        self._file.flush()
        self._tail_at += len(chunk) - len(_TAIL)
        self._empty = False

    def close(self) -> None:
        self._file.close()


def _lock(file: IO[bytes]) -> bool:
    """Hold an exclusive lock on the file for as long as it is open; False if another has it."""
    if fcntl is None:  # Windows: no advisory lock; one run per directory at a time
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
