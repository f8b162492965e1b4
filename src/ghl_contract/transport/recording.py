"""HAR 1.2 recording of a run's exchanges, redacted, readable after a crash at any point.

The file is valid HAR after every entry: each entry is written over the closing brackets together
with a fresh copy of them, in one write, so a run killed mid-way leaves the entries so far.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from ghl_contract import __version__
from ghl_contract.errors import UsageError
from ghl_contract.transport.redact import redact, redact_bytes, redact_headers

if TYPE_CHECKING:
    from ghl_contract.transport.client import Exchange

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FILE_NAME = "exchanges.har"
_HEAD = {"log": {"version": "1.2", "creator": {"name": "ghl-contract", "version": __version__},
                 "entries": []}}
_TAIL = b"\n]}}\n"


class _Busy(Exception):
    """Another process is writing this HAR file."""


def _lock(file: IO[bytes]) -> bool:
    """Hold an exclusive lock on the file for as long as it is open; False if another has it."""
    if fcntl is None:  # Windows: no advisory lock; one run per directory at a time
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _text(data: bytes) -> tuple[str, str | None]:
    """HAR carries text: UTF-8 as is, anything else base64 (HAR's `encoding`)."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def _headers(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _status_text(status: int | None) -> str:
    try:
        return HTTPStatus(status).phrase if status else ""
    except ValueError:
        return ""


def har_entry(exchange: Exchange, secrets: Iterable[str | None] = ()) -> dict[str, Any]:
    """One exchange as a HAR 1.2 entry; redacted again here so a recording is safe on its own.

    An exchange without an answer has status 0 (what browsers record); its findings are kept in
    the custom field `_faults`, and `_write` says whether it counted as a write.
    """
    secrets = list(secrets)
    request_text, request_encoding = _text(redact_bytes(exchange.request_body, secrets))
    response_text, response_encoding = _text(redact_bytes(exchange.response_body, secrets))
    started = datetime.fromtimestamp(exchange.started_at or 0, UTC)
    post_data: dict[str, Any] = {
        "mimeType": exchange.request_headers.get("content-type", ""),
        "text": request_text,
    }
    if request_encoding:
        post_data["_encoding"] = request_encoding  # HAR's postData has no `encoding` of its own
    content: dict[str, Any] = {
        "size": len(exchange.response_body),
        "mimeType": exchange.response_headers.get("content-type", ""),
        "text": response_text,
    }
    if response_encoding:
        content["encoding"] = response_encoding
    millis = round(exchange.elapsed * 1000, 3)
    return {
        "startedDateTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": millis,
        "request": {
            "method": exchange.method,
            "url": redact(exchange.url, secrets),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _headers(redact_headers(exchange.request_headers, secrets)),
            "queryString": [],
            "postData": post_data,
            "headersSize": -1,
            "bodySize": len(exchange.request_body),
        },
        "response": {
            "status": exchange.status or 0,
            "statusText": _status_text(exchange.status),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _headers(redact_headers(exchange.response_headers, secrets)),
            "content": content,
            "redirectURL": exchange.response_headers.get("location", ""),
            "headersSize": -1,
            "bodySize": len(exchange.response_body) if exchange.status else -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": millis, "receive": 0},
        "_write": exchange.write,
        "_faults": [f.to_dict() for f in exchange.faults],
    }


class _HarFile:
    """One HAR file of this process, shared by every recorder of the run writing to it."""

    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path, self.users, self.lock = path, 0, threading.Lock()
        self.file: IO[bytes] = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o666), "r+b")
        if not _lock(self.file):
            self.file.close()
            raise _Busy(path)
        if resume:
            self.tail_at = self.file.seek(0, os.SEEK_END) - len(_TAIL)
            self.file.seek(max(self.tail_at - 1, 0))
            if self.tail_at < 1 or self.file.read(len(_TAIL) + 1)[1:] != _TAIL:
                self.file.close()
                raise UsageError(f"--record: {path} was changed by something else during the run.")
            self.file.seek(self.tail_at - 1)
            self.empty = self.file.read(1) == b"["
        else:
            self.file.truncate(0)  # a new run replaces the directory's last recording
            head = orjson.dumps(_HEAD, option=orjson.OPT_INDENT_2)
            head = head[: head.rindex(b"[") + 1]  # up to the entries' opening bracket
            self.file.write(head + _TAIL)
            self.file.flush()
            self.tail_at, self.empty = len(head), True

    def append(self, entry: bytes) -> None:
        with self.lock:
            chunk = (b"\n" if self.empty else b",\n") + entry + _TAIL
            self.file.seek(self.tail_at)
            self.file.write(chunk)  # one write: the file is whole before and after it
            self.file.flush()
            self.tail_at += len(chunk) - len(_TAIL)
            self.empty = False


# The HAR files this process has open, and those it started: a second client of the same run
# shares the open file, or appends to a closed one, instead of truncating it.
_OPEN: dict[Path, _HarFile] = {}
_STARTED: set[Path] = set()
_REGISTRY_LOCK = threading.Lock()


class HarRecorder:
    """Appends a client's exchanges to the run's HAR file, which stays valid after every entry.

    The file is `exchanges.har` in the record directory; if another process is writing that one
    (parallel workers of one run), this process writes `exchanges-<pid>.har` beside it.
    """

    def __init__(self, record_dir: Path, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = list(secrets)
        with _REGISTRY_LOCK:
            for name in (FILE_NAME, f"exchanges-{os.getpid()}.har"):
                self.path = record_dir / name
                key = self.path.absolute()
                shared = _OPEN.get(key)
                if shared is not None:
                    break
                try:
                    record_dir.mkdir(parents=True, exist_ok=True)
                    shared = _HarFile(self.path, resume=key in _STARTED and self.path.is_file())
                except _Busy:
                    continue
                except OSError as exc:
                    raise UsageError(f"--record {record_dir}: cannot write {self.path} "
                                     f"({exc.strerror or exc}).") from None
                _OPEN[key] = shared
                _STARTED.add(key)
                break
            else:  # unreachable: this process's own file name is no other process's
                raise UsageError(f"--record {record_dir}: every recording file there is in use.")
            shared.users += 1
        self._key: Path | None = key
        self._shared = shared

    def record(self, exchange: Exchange) -> None:
        if self._key is None:
            return
        entry = orjson.dumps(har_entry(exchange, self._secrets))
        # The entry was redacted field by field; this pass catches a secret in any other field.
        self._shared.append(redact_bytes(entry, self._secrets))

    def close(self) -> None:
        with _REGISTRY_LOCK:
            if self._key is None:
                return
            self._shared.users -= 1
            if self._shared.users == 0:
                self._shared.file.close()
                del _OPEN[self._key]
            self._key = None
