"""Writers over one `Report`: text for people, JSON for machines, Markdown for CI job summaries,
HTML for a page a QA lead opens.

Each format is a small module with ``write(report, stream)``; none knows where the report came
from, so `check` and the contract suite (drift-report.json, drift-report.md, report.html) share
them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from ghl_contract.errors import UsageError
from ghl_contract.findings import Report
from ghl_contract.reporters import html, json, markdown, text

Writer = Callable[[Report, TextIO], None]

_WRITERS: dict[str, Writer] = {
    "text": text.write,
    "json": json.write,
    "markdown": markdown.write,
    "html": html.write,
}

FORMATS: tuple[str, ...] = tuple(_WRITERS)


def write(fmt: str, report: Report, stream: TextIO) -> None:
    """Write `report` to `stream` in format `fmt` (one of FORMATS)."""
    try:
        writer = _WRITERS[fmt]
    except KeyError:
        raise UsageError(f"Unknown report format {fmt!r}; choose one of "
                         f"{', '.join(FORMATS)}.") from None
    writer(report, stream)
