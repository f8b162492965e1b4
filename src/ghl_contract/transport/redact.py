"""The one redaction helper: tokens and credential headers never leave the process in clear."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from urllib.parse import quote

REDACTED = "<redacted>"

# Headers whose value is a credential whatever it contains.
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
# Schemes kept in front of a redacted Authorization value, so a reader still sees which kind of
# credential was sent. Anything else is redacted whole: an unknown first word may be the secret.
_SCHEMES = frozenset({"bearer", "basic", "token", "digest"})

# A secret shorter than this is not searched for in free text: "null" or "1" would match inside
# every JSON body and corrupt it. Credential headers are redacted by name whatever the length.
MIN_SECRET_LENGTH = 6


def _forms(secret: str) -> set[str]:
    """The ways a secret appears in text: as it is, JSON-escaped (a server echoing it in a JSON
    body may write "\\/" for "/", and escapes quotes and backslashes), and percent-encoded."""
    escaped = json.dumps(secret, ensure_ascii=True)[1:-1]
    return {secret, escaped, escaped.replace("/", "\\/"), quote(secret, safe="")}


def _usable(secrets: Iterable[str | None]) -> list[str]:
    # Longest first, so that a secret containing another is replaced whole.
    unique = {form for s in secrets if s and len(s) >= MIN_SECRET_LENGTH for form in _forms(s)}
    return sorted(unique, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every occurrence of each secret replaced by `<redacted>`."""
    for secret in _usable(secrets):
        text = text.replace(secret, REDACTED)
    return text


def redact_bytes(data: bytes, secrets: Iterable[str | None]) -> bytes:
    """`redact` for a body: the secrets' UTF-8 bytes replaced by `<redacted>`."""
    for secret in _usable(secrets):
        data = data.replace(secret.encode("utf-8"), REDACTED.encode("ascii"))
    return data


def redact_header_value(name: str, value: str, secrets: Iterable[str | None] = ()) -> str:
    """One header's value as it may be shown: credentials replaced, any secret removed."""
    if name.lower() in SENSITIVE_HEADERS:
        scheme, _, rest = value.strip().partition(" ")
        if rest and scheme.lower() in _SCHEMES:
            return f"{scheme} {REDACTED}"
        return REDACTED
    return redact(value, secrets)


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], secrets: Iterable[str | None] = ()
) -> dict[str, str]:
    """Headers as they may be shown: Authorization (and any credential header) -> `<redacted>`,
    any header carrying one of `secrets` redacted too. Names keep their case."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    secrets = list(secrets)
    return {name: redact_header_value(name, value, secrets) for name, value in items}


class SecretRegistry:
    """The secrets of the clients alive in this process, for the logging filter.

    Reference-counted: two clients with the same token share one entry, and closing one of them
    does not expose the other's token.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, secret: str | None) -> None:
        if secret:
            with self._lock:
                self._counts[secret] += 1

    def remove(self, secret: str | None) -> None:
        if secret:
            with self._lock:
                self._counts[secret] -= 1
                if self._counts[secret] <= 0:
                    del self._counts[secret]

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self._counts)


ACTIVE_SECRETS = SecretRegistry()

# httpcore logs under one logger per module, and a logger's filters do not apply to its
# children: each name is listed.
LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.connection_pool",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack",
    "ghl_contract",
    "ghl_contract.transport",
)

# An Authorization header printed by a library: `authorization: Bearer x`, `(b'Authorization',
# b'Bearer x')`, `{'authorization': 'Bearer x'}`.
_AUTH_IN_TEXT = re.compile(
    r"(?i)(authorization['\"]?\s*[:=,]\s*\(?b?['\"]?)(bearer|basic)\s+[^'\"\s,)]+"
)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with the active secrets and any Authorization value removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _AUTH_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)} {REDACTED}", message)
        cleaned = redact(cleaned, ACTIVE_SECRETS.snapshot())
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def install_log_filter() -> None:
    """Attach the redacting filter to every logger the transport's libraries write to (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
