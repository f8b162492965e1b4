"""The JSON report, for machines: ``{summary, findings, problems, notes}`` (Report.to_dict)."""

from __future__ import annotations

from typing import Any, TextIO

import orjson

from ghl_contract.findings import Report


def _fallback(value: Any) -> Any:
    # an expected/actual value that is not plain JSON (a Decimal, a tuple key...) is shown as text
    return str(value)


def write(report: Report, stream: TextIO) -> None:
    stream.write(orjson.dumps(report.to_dict(), default=_fallback,
                              option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())
    stream.write("\n")
