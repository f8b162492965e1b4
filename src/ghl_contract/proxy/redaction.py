"""The session's secrets: every credential a client sends, kept out of every sink of the proxy.

The proxy never knows a token in advance: it learns each one from the credential headers of the
requests it forwards (Authorization, Cookie, X-Api-Key...), and from then on redacts it, in every
form the product's redaction knows, from the findings stream, the reports, the recording, the 502
bodies it writes and the log records of the libraries it uses. This module is the proxy's one
import of the product's redaction, so that where that lives can change in one place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any

from ghl_contract.findings import Finding
from ghl_contract.transport.redact import (
    ACTIVE_SECRETS,
    SENSITIVE_HEADERS,
    install_log_filter,
    redact,
    redact_bytes,
    redact_headers,
)

__all__ = ["Secrets", "redact_headers"]

_SENSITIVE = frozenset(name.encode("ascii") for name in SENSITIVE_HEADERS)


def _credentials(value: str) -> Iterable[str]:
    """The secret parts of a credential header's value: the whole value, what follows an
    auth scheme, and each cookie's value."""
    value = value.strip()
    yield value
    _, _, rest = value.partition(" ")
    if rest.strip():
        yield rest.strip()
    for pair in value.split(";"):
        _, equals, cookie = pair.partition("=")
        if equals and cookie.strip():
            yield cookie.strip()


class Secrets:
    """The credentials seen so far; `learn` from request headers, then redact with them.

    Thread-safe: the event loop learns, the session's thread redacts. While open, the secrets are
    also in the logging filter's registry, so that a library's log record cannot carry them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: set[str] = set()
        self._snapshot: tuple[str, ...] = ()
        self._closed = False
        install_log_filter()

    def learn(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Remember the credentials in `headers` (raw name/value pairs, names lower case)."""
        for name, value in headers:
            if name not in _SENSITIVE:
                continue
            for secret in _credentials(value.decode("latin-1")):
                if secret in self._known:
                    continue
                with self._lock:
                    if self._closed or secret in self._known:
                        continue
                    self._known.add(secret)
                    self._snapshot = (*self._snapshot, secret)
                    ACTIVE_SECRETS.add(secret)

    @property
    def known(self) -> tuple[str, ...]:
        return self._snapshot

    def text(self, text: str) -> str:
        return redact(text, self._snapshot)

    def bytes(self, data: bytes) -> bytes:
        return redact_bytes(data, self._snapshot)

    def value(self, value: Any) -> Any:
        """A JSON-like value with every string in it (keys too) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value

    def finding(self, found: Finding) -> Finding:
        """`found` with every field that can carry a server's or a client's text redacted."""
        if not self._snapshot:
            return found
        changes = {field.name: self.value(getattr(found, field.name)) for field in fields(found)
                   if field.name not in ("severity", "status")}
        return replace(found, **changes)

    def close(self) -> None:
        """Take the secrets out of the logging filter's registry (the session has ended)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for secret in self._known:
                ACTIVE_SECRETS.remove(secret)
