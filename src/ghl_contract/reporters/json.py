"""The JSON report, for machines: Report.to_dict, whose format is drift-report.schema.json here."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, TextIO

import jsonschema_rs
import orjson

from ghl_contract.findings import Report, pointer

SCHEMA_PATH = Path(__file__).resolve().with_name("drift-report.schema.json")


def _fallback(value: Any) -> Any:
    # an expected/actual value that is not plain JSON (a Decimal, a tuple key...) is shown as text
    return str(value)


def write(report: Report, stream: TextIO) -> None:
    stream.write(orjson.dumps(report.to_dict(), default=_fallback,
                              option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())
    stream.write("\n")


@cache
def _validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")),
                                       validate_formats=True)


def schema_problem(data: Any) -> str | None:
    """Where `data` departs from the drift report's schema (``at /findings/0/rule, ...``), or
    None for a drift report."""
    error = next(iter(_validator().iter_errors(data)), None)
    if error is None:
        return None
    return f"at {pointer(error.instance_path) or '(the whole document)'}, {error.message}"
