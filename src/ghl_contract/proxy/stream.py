"""The findings stream: one JSON object a line (the findings model's own form), as they happen.

Each line is a `Finding.to_dict()`; its `source` names the exchange (``#12 POST /path response``).
It is written and flushed by the session's thread only, so that a slow reader of standard output
never holds up an answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

import orjson

from ghl_contract.findings import Finding
from ghl_contract.proxy.redaction import Secrets

FILE_NAME = "findings.ndjson"


def _fallback(value: Any) -> Any:
    return str(value)  # an expected/actual value that is not plain JSON is shown as text


class FindingsStream:
    """Writes findings as NDJSON to `out`, redacted."""

    def __init__(self, out: TextIO, secrets: Secrets) -> None:
        self._out = out
        self._secrets = secrets

    def write(self, findings: Iterable[Finding]) -> None:
        lines = [orjson.dumps(f.to_dict(), default=_fallback,
                              option=orjson.OPT_NON_STR_KEYS).decode() for f in findings]
        if lines:
            self._out.write(self._secrets.text("\n".join(lines)) + "\n")
            self._out.flush()
