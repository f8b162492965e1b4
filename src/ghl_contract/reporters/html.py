"""The HTML report (report.html), for a QA lead: one self-contained page that opens anywhere.

A verdict and the run's facts, then the findings grouped by operation and rule, each group with its
pointer, message, expected and actual values, the server's message, a curl command that sends the
request again, and every place it was seen; then what the baseline acknowledged or no longer
sees, the tests by module, what was skipped and what was created. No script, no external resource
(a Content-Security-Policy forbids both); every value is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any, TextIO

import orjson

from ghl_contract.baseline import Entry
from ghl_contract.findings import Group, Report, group, same_value
from ghl_contract.reporters.common import by_reason, facts, plural, summary_sentence

SHOWN_OCCURRENCES = 500  # places listed per group; the JSON report has every one
VALUE_CHARS = 4000  # longest expected or actual value shown
ONE_LINE = 80  # a longer value is indented

_STYLE = """
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #59636e; --line: #d1d9e0;
  --bad: #cf222e; --warn: #9a6700; --good: #1a7f37; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d;
  --bad: #ff7b72; --warn: #d29922; --good: #3fb950; --code: #151b23; } }
body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); max-width: 72rem;
  margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: .25rem; } h2 { border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.verdict { font-size: 1.2rem; font-weight: 600; }
.broken { color: var(--bad); } .drift { color: var(--warn); } .holds { color: var(--good); }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left;
  vertical-align: top; }
code, pre { font: 13px/1.4 ui-monospace, monospace; background: var(--code); }
pre { padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
article { border: 1px solid var(--line); border-left: 4px solid var(--warn); padding: 0 1rem;
  margin: 1rem 0; }
article.breaking { border-left-color: var(--bad); }
article.acknowledged { border-left-color: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: var(--muted); } dd { margin: 0; }
.muted { color: var(--muted); }
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _json(value: Any) -> str:
    """`value` as JSON: on one line when short, indented when not."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
        if len(text) > ONE_LINE:
            text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
                                default=str).decode()
    except TypeError:
        text = repr(value)
    if len(text) > VALUE_CHARS:
        text = text[:VALUE_CHARS - 1] + "…"
    return text


def _verdict(report: Report) -> tuple[str, str]:
    if report.problems:
        return "broken", "Some input could not be read"
    if report.breaking:
        return "broken", "The contract is broken"
    if report.findings:
        return "drift", "The contract holds, with drift that breaks nothing"
    return "holds", "The contract holds"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A table; the cells of `rows` are HTML already."""
    lines = ["<table>"]
    if head:
        lines.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>")
    lines.extend("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    lines.append("</table>")
    return lines


def _occurrences(g: Group) -> list[str]:
    """Where the group was seen, one row per finding: its source and pointer, and its traceId,
    message and actual value where some finding of the group has another than the first."""
    shown = g.findings[:SHOWN_OCCURRENCES]
    traces = any(f.trace_id for f in shown)
    messages = any(f.message != g.first.message for f in shown)
    actuals = any(not same_value(f.actual, g.first.actual) for f in shown)
    head = ["Seen in", "Pointer", *(["traceId"] if traces else []),
            *(["Message"] if messages else []), *(["Actual"] if actuals else [])]
    rows = []
    for f in shown:
        row = [_e(f.source or ""), f"<code>{_e(f.pointer or '(root)')}</code>"]
        if traces:
            row.append(f"<code>{_e(f.trace_id or '')}</code>")
        if messages:
            row.append(_e(f.message))
        if actuals:
            row.append(f"<code>{_e(_json(f.actual))}</code>")
        rows.append(row)
    lines = _table(head, rows)
    left = g.occurrences - len(shown)
    if left > 0:
        lines.append(f"<p class=\"muted\">{plural(left, 'more occurrence')} in "
                     "drift-report.json.</p>")
    return lines


def _group(g: Group, *, css: str, why: str | None = None) -> list[str]:
    first = g.first
    times = f" <span class=\"muted\">({plural(g.occurrences, 'occurrence')})</span>"
    lines = [f'<article class="{css}">',
             f"<h4>{_e(g.severity.value)}: <code>{_e(g.rule)}</code> at "
             f"<code>{_e(g.pointer or '(root)')}</code>{times}</h4>",
             f"<p>{_e(first.message)}</p>", "<dl>"]
    if why is not None:
        lines.append(f"<dt>Acknowledged</dt><dd>{_e(why)}</dd>")
    if g.status is not None:
        lines.append(f"<dt>HTTP status</dt><dd>{_e(g.status)}</dd>")
    for label, value in (("Expected", first.expected), ("Actual", first.actual)):
        if value is not None:
            lines.append(f"<dt>{label}</dt><dd><pre>{_e(_json(value))}</pre></dd>")
    example = g.reproducer
    if example is not None and example.server_message:
        lines.append(f"<dt>The server said</dt><dd>{_e(example.server_message)}</dd>")
    if example is not None and example.curl:
        lines.append(f"<dt>Reproduce</dt><dd><pre><code>{_e(example.curl)}</code></pre></dd>")
    lines.append("</dl>")
    lines.extend(_occurrences(g))
    lines.append("</article>")
    return lines


def _findings(groups: list[Group], *, css: str = "",
              why: dict[int, str] | None = None) -> list[str]:
    """Groups by operation (when the findings name one), then by rule."""
    lines: list[str] = []
    operations: dict[str | None, dict[str, list[tuple[int, Group]]]] = {}
    for position, g in enumerate(groups):
        operations.setdefault(g.operation, {}).setdefault(g.rule, []).append((position, g))
    named = any(operation is not None for operation in operations)
    for operation, rules in operations.items():
        if named:
            title = f"<code>{_e(operation)}</code>" if operation else "No operation named"
            lines.append(f"<h3>{title}</h3>")
        for rule, members in rules.items():
            count = sum(g.occurrences for _, g in members)
            lines.append(f"<h4 class=\"muted\">{_e(rule)}: {plural(count, 'finding')}</h4>")
            for position, g in members:
                severity = "breaking" if g.breaking else "non-breaking"
                lines.extend(_group(g, css=f"{severity} {css}".strip(),
                                    why=why.get(position) if why is not None else None))
    return lines


def _entries(title: str, hint: str, entries: list[Entry]) -> list[str]:
    if not entries:
        return []
    rows = ([f"<code>{_e(e.operation or '')}</code>", f"<code>{_e(e.rule)}</code>",
             f"<code>{_e(e.pointer or '(root)')}</code>", _e(e.reason or ""),
             _e(e.until.isoformat() if e.until else "")] for e in entries)
    return [f"<h3>{_e(title)}</h3>", f"<p>{_e(hint)}</p>",
            *_table(("Operation", "Rule", "Pointer", "Reason", "Until"), rows)]


def _baseline(report: Report) -> list[str]:
    judgement = report.baseline
    if judgement is None:
        return []
    named = f" <code>{_e(judgement.file)}</code>" if judgement.file else ""
    lines = ['<section id="baseline">', f"<h2>Baseline{named}</h2>"]
    if judgement.acknowledged:
        entries = {id(a.finding): a.entry for a in judgement.acknowledged}
        groups = group(a.finding for a in judgement.acknowledged)
        why = {}
        for position, g in enumerate(groups):
            entry = entries[id(g.first)]
            why[position] = (entry.reason or "no reason given") + (
                f" (until {entry.until.isoformat()})" if entry.until else "")
        lines.extend([f"<h3>Acknowledged: {plural(len(judgement.acknowledged), 'finding')} "
                      "that do not fail</h3>",
                      *_findings(groups, css="acknowledged", why=why)])
    lines.extend(_entries("Resolved entries",
                          "No finding matches them any more: remove them from the baseline.",
                          judgement.resolved))
    lines.extend(_entries("Expired entries", "Past their until date: their findings fail again.",
                          judgement.expired))
    if not (judgement.acknowledged or judgement.resolved or judgement.expired):
        lines.append("<p>The baseline acknowledged nothing and every entry still occurs.</p>")
    lines.append("</section>")
    return lines


def _run(report: Report) -> list[str]:
    lines: list[str] = []
    if report.tests:
        rows = ([f"<code>{_e(name)}</code>", str(c.passed), str(c.failed), str(c.skipped),
                 str(c.errored)] for name, c in report.tests.items())
        total = report.total()
        lines.extend(["<section id=\"tests\">", "<h2>Tests</h2>",
                      *_table(("Module", "Passed", "Failed", "Skipped", "Errored"),
                              [*rows, ["<strong>total</strong>", str(total.passed),
                                       str(total.failed), str(total.skipped),
                                       str(total.errored)]]),
                      "</section>"])
    if report.skipped:
        lines.extend(["<section id=\"skipped\">", f"<h2>Skipped ({len(report.skipped)})</h2>"])
        for reason, tests in by_reason(report.skipped):
            lines.append(f"<h3>{_e(reason)}</h3>")
            lines.append("<ul>" + "".join(f"<li><code>{_e(t)}</code></li>" for t in tests)
                         + "</ul>")
        lines.append("</section>")
    if report.created:
        rows = ([_e(c.kind), f"<code>{_e(c.id)}</code>", _e(c.number or ""),
                 f"<code>{_e(c.location or '')}</code>", _e(c.cleanup.value),
                 f"<code>{_e(c.operation or '')}</code>"] for c in report.created)
        lines.extend(["<section id=\"created\">", f"<h2>Created ({len(report.created)})</h2>",
                      *_table(("Kind", "Id", "Number", "Location", "Cleanup", "Operation"),
                              rows),
                      "</section>"])
    return lines


def write(report: Report, stream: TextIO) -> None:
    css, verdict = _verdict(report)
    counts = report.summary()
    rows = [(label, _e(text)) for label, text in facts(report)]
    rows.insert(0, ("Checked", str(counts["checked"])))
    rows.insert(1, ("Findings", f"{counts['findings']} ({counts['breaking']} breaking, "
                                f"{counts['non_breaking']} non-breaking)"))
    if report.baseline is not None:
        rows.insert(2, ("Baseline", f"{counts['acknowledged']} acknowledged, "
                                    f"{counts['resolved']} resolved"))
    if report.problems:
        rows.insert(1, ("Input problems", str(counts["problems"])))
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        # Nothing may load or run: the page is the whole report.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(verdict)}: contract drift report</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>Contract drift</h1>",
        f'<p class="verdict {css}">{_e(verdict)}</p>',
        f"<p>{_e(summary_sentence(report))}</p>",
        "</header>",
        '<section id="summary">',
        "<h2>Summary</h2>",
        *_table((), ([_e(label), text] for label, text in rows)),
        "</section>",
    ]
    groups = report.groups()
    lines.append('<section id="findings">')
    lines.append(f"<h2>Findings ({len(report.findings)} in {plural(len(groups), 'group')})</h2>")
    lines.extend(_findings(groups) if groups else ["<p>None.</p>"])
    lines.append("</section>")
    lines.extend(_baseline(report))
    lines.extend(_run(report))
    for name, title, entries in (("problems", "Input problems", report.problems),
                                 ("notes", "Notes", report.notes)):
        if entries:
            lines.extend([f'<section id="{name}">', f"<h2>{title}</h2>", "<ul>",
                          *(f"<li>{_e(entry)}</li>" for entry in entries), "</ul>", "</section>"])
    lines.extend([f'<footer class="muted">ghl-contract {_e(report.tool_version)}</footer>',
                  "</body>", "</html>"])
    stream.write("\n".join(lines) + "\n")
