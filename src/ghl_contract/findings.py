"""The one findings model: every check in the product reports through `Finding` and `Report`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import orjson


class Severity(StrEnum):
    BREAKING = "breaking"
    NON_BREAKING = "non-breaking"


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between what was seen and the contract, at one place."""

    pointer: str  # RFC 6901 pointer into the payload ("" is the whole payload)
    rule: str  # a stable code from ghl_contract.rules
    severity: Severity
    message: str  # one plain sentence
    expected: Any = None
    actual: Any = None
    source: str | None = None  # file:line, HAR entry, or the test that saw it
    status: int | None = None  # HTTP status, when the payload came from a response
    trace_id: str | None = None  # HighLevel's traceId, when the response carried one
    operation: str | None = None  # the manifest's operation id, when the payload had one
    curl: str | None = None  # a command that sends the request again (token as $GHL_TOKEN)
    server_message: str | None = None  # the server's own `message`, redacted and shortened

    @property
    def breaking(self) -> bool:
        return self.severity is Severity.BREAKING

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return {key: value for key, value in data.items() if value is not None}


@dataclass(slots=True)
class Report:
    """What one check or run produced: findings, how much was checked, and input problems."""

    findings: list[Finding] = field(default_factory=list)
    checked: int = 0  # payloads (or exchanges) examined
    problems: list[str] = field(default_factory=list)  # input errors, one sentence each
    notes: list[str] = field(default_factory=list)  # plain facts for the reader (skips, plan)

    @property
    def breaking(self) -> list[Finding]:
        return [f for f in self.findings if f.breaking]

    @property
    def non_breaking(self) -> list[Finding]:
        return [f for f in self.findings if not f.breaking]

    def exit_code(self, *, strict: bool = False) -> int:
        """0 the contract holds, 1 it is broken, 2 the input could not all be read."""
        if self.problems:
            return 2
        if self.breaking or (strict and self.findings):
            return 1
        return 0

    def summary(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "findings": len(self.findings),
            "breaking": len(self.breaking),
            "non_breaking": len(self.non_breaking),
            "problems": len(self.problems),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def pointer(path: Any) -> str:
    """RFC 6901 pointer from a sequence of keys and indices."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def pointer_within(at: str, pattern: str) -> bool:
    """Whether pointer `at` is `pattern` or inside it; `*` in the pattern is any array index."""
    return at.count("/") >= pattern.count("/") and pointers_overlap(at, pattern)


def pointers_overlap(at: str, pattern: str) -> bool:
    """Whether pointer `at` is `pattern`, inside it, or one of its parents: a change at one
    reaches the other. `*` in the pattern is any array index."""
    parts, wanted = at.split("/"), pattern.split("/")
    return all(w == p or (w == "*" and p.isascii() and p.isdigit())
               for w, p in zip(wanted, parts, strict=False))


_MISSING: Any = object()


def value_at(document: Any, at: str, default: Any = None) -> Any:
    """The value at RFC 6901 pointer `at` in `document`, or `default` where there is none."""
    value = document
    for part in at.split("/")[1:] if at else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isascii() and part.isdigit() \
                and int(part) < len(value):
            value = value[int(part)]
        else:
            return default
        if value is _MISSING:
            return default
    return value


SHOWN = 60  # longest rendering of a value inside a message


def show(value: Any) -> str:
    """A value as JSON, shortened for a one-sentence message."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
