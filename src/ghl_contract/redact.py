"""The one redaction: a secret is replaced wherever it appears, in any form it can take.

A token echoed by a server does not stay raw on its way to an artifact: a JSON writer escapes `+`
as `\\u002B` (or any character as `\\uXXXX`, and `/` as `\\/`), XML and HTML as `&#43;`, `&#x2B;` or
`&plus;`, Markdown as `\\_`, a URL as `%2B` or `%2b`, and a report may escape it twice (`\\\\u002B`,
`&amp;#43;`, `%252B`). So each secret becomes one regular expression in which every character may
appear in any of those forms, mixed freely. Every sink applies it: the exchanges and the HAR
recording (`redact_bytes`), the findings and reports before they are escaped for their format
(`redact_value`) and the rendered text as the last line of defence (`redact`, `redact_file`), the
run's output streams (`RedactingStream`) and the logs (`install_log_filter`).
"""

from __future__ import annotations

import dataclasses
import html.entities
import io
import logging
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

REDACTED = "<redacted>"
_REDACTED_BYTES = REDACTED.encode("ascii")

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

Secrets = Iterable[str | None]


def _entity_names() -> dict[str, list[str]]:
    """HTML's named character references of each ASCII character (`+` -> `plus;`)."""
    names: defaultdict[str, list[str]] = defaultdict(list)
    for name, value in html.entities.html5.items():
        if len(value) == 1 and ord(value) < 128:
            names[value].append(re.escape(name))
    return names


_NAMED = _entity_names()
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# A report may escape what is already escaped: `\\u002B` in JSON within JSON, `&amp;#43;` in
# XML within XML, `%252B` in a URL within a URL.
_BACKSLASHES, _AMPERSAND, _PERCENT = r"\\\\*", r"&(?:amp;)*", r"%(?:25)*"


def _hex(digits: str) -> str:
    """Hex digits in either case: `2b` -> `2[bB]`."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in digits)


def _json_escape(code: int) -> str:
    """`\\uXXXX`, or the surrogate pair JSON writes for a character beyond the BMP."""
    if code < 0x10000:
        return _BACKSLASHES + "u" + _hex(f"{code:04x}")
    high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
    return f"{_BACKSLASHES}u{_hex(f'{high:04x}')}{_BACKSLASHES}u{_hex(f'{low:04x}')}"


def _char_forms(char: str) -> str:
    """A pattern matching one character of a secret in each form an artifact may give it."""
    code = ord(char)
    forms = [
        re.escape(char),
        _json_escape(code),
        f"{_AMPERSAND}#0*{code};?",
        f"{_AMPERSAND}#[xX]0*{_hex(f'{code:x}')};?",
        "".join(_PERCENT + _hex(f"{byte:02x}") for byte in char.encode("utf-8")),
    ]
    if code < 0x100:
        forms.append(_BACKSLASHES + "x" + _hex(f"{code:02x}"))  # a Python bytes repr
    if char in _PUNCTUATION:
        forms.append(_BACKSLASHES + re.escape(char))  # Markdown, JSON's \/ and \", a shell
    if char in _NAMED:
        forms.append(_AMPERSAND + "(?:" + "|".join(_NAMED[char]) + ")")
    return "(?:" + "|".join(forms) + ")"


def secret_pattern(secret: str) -> str:
    """The regular expression of one secret in every form (see the module docstring)."""
    return "".join(_char_forms(char) for char in secret)


def usable(secrets: Secrets) -> tuple[str, ...]:
    """The secrets long enough to search for, each once, longest first (a secret that contains
    another is replaced whole)."""
    unique = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
    return tuple(sorted(unique, key=lambda s: (-len(s), s)))


class Redactor:
    """The redaction of a fixed set of secrets; compiled once (see `redactor`)."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = usable(secrets)
        # One expression per secret, applied in turn: each starts with a set of literal
        # characters, which the regex engine scans for quickly; an alternation of them does not.
        patterns = [secret_pattern(secret) for secret in self.secrets]
        self._text = [re.compile(pattern) for pattern in patterns]
        self._bytes = [re.compile(pattern.encode("utf-8")) for pattern in patterns]

    def __repr__(self) -> str:
        return f"<Redactor of {len(self.secrets)} secrets>"

    def text(self, text: str) -> str:
        for pattern in self._text:
            text = pattern.sub(REDACTED, text)
        return text

    def bytes(self, data: bytes) -> bytes:
        for pattern in self._bytes:
            data = pattern.sub(_REDACTED_BYTES, data)
        return data

    def value(self, value: Any) -> Any:
        """A parsed value (JSON, a dataclass such as a finding or a report) with every string in
        it redacted, before a writer escapes it for its format."""
        if not self.secrets or isinstance(value, Enum):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes):
            return self.bytes(value)
        if isinstance(value, Mapping):
            return {self.value(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(item) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {field.name: self.value(getattr(value, field.name))
                       for field in dataclasses.fields(value) if field.init}
            return dataclasses.replace(value, **changes)
        return value

    def header(self, name: str, value: str) -> str:
        """One header's value as it may be shown: a credential replaced, any secret removed."""
        if name.lower() in SENSITIVE_HEADERS:
            scheme, _, rest = value.strip().partition(" ")
            if rest and scheme.lower() in _SCHEMES:
                return f"{scheme} {REDACTED}"
            return REDACTED
        return self.text(value)

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]
                ) -> list[tuple[str, str]]:
        """Headers as they may be shown, in their order; names keep their case."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        return [(name, self.header(name, value)) for name, value in items]


@lru_cache(maxsize=64)
def _cached(secrets: tuple[str, ...]) -> Redactor:
    return Redactor(secrets)


def redactor(secrets: Secrets) -> Redactor:
    """The redactor of `secrets`, compiled once per set."""
    return _cached(usable(secrets))


def redact(text: str, secrets: Secrets) -> str:
    """`text` with every secret, in any of its forms, replaced by `<redacted>`."""
    return redactor(secrets).text(text)


def redact_bytes(data: bytes, secrets: Secrets) -> bytes:
    """`redact` for bytes (a body, a serialised artifact)."""
    return redactor(secrets).bytes(data)


def redact_value(value: Any, secrets: Secrets) -> Any:
    """`value` with every string in it redacted (see `Redactor.value`)."""
    return redactor(secrets).value(value)


def redact_header_value(name: str, value: str, secrets: Secrets = ()) -> str:
    return redactor(secrets).header(name, value)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]],
                   secrets: Secrets = ()) -> dict[str, str]:
    """Headers as they may be shown: Authorization (and any credential header) -> `<redacted>`,
    any header carrying a secret redacted too. Names keep their case."""
    return dict(redactor(secrets).headers(headers))


def redact_file(path: Path, secrets: Secrets) -> None:
    """Rewrite a written artifact (junit.xml ...) with every secret redacted; the last line of
    defence for what a library wrote."""
    chosen = redactor(secrets)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    cleaned = chosen.bytes(data)
    if cleaned != data:
        path.write_bytes(cleaned)


class RedactingStream(io.TextIOBase):
    """A text stream that writes whole lines, each redacted, to another (a run's stdout/stderr).

    Lines, because a writer may hand over a secret in two pieces; a secret has no line break.
    `secrets` is asked at every line: the run's secrets are known only once its target is.
    """

    def __init__(self, stream: TextIO, secrets: Callable[[], Secrets]) -> None:
        super().__init__()
        self._stream, self._secrets, self._pending = stream, secrets, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self._stream.write(redact(lines + "\n", self._secrets()))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(redact(self._pending, self._secrets()))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"


class SecretRegistry:
    """The secrets of the clients alive in this process, for the logging filter and the output.

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
