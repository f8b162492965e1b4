"""`ghl-contract baseline REPORT...`: a baseline that acknowledges every finding of drift reports.

The reports are drift-report.json files of runs, or `check --format json` output. Written to
standard output, or with -o to FILE; when FILE exists already, its entries that still match a
finding are kept as they are (their reason and until with them), and so are those the reports'
own baseline acknowledged with. Exit 0, or 2 when a report cannot be read.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

import orjson

from ghl_contract.baseline import Entry, dumps, entries_for, load, report_findings, today
from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding
from ghl_contract.reporters.common import plural
from ghl_contract.reporters.json import schema_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reports", nargs="+", metavar="REPORT", type=Path,
                        help="A drift-report.json of a run, or the --format json output of "
                             "check; several are merged.")
    parser.add_argument("-o", "--output", metavar="FILE", type=Path, default=None,
                        help="Write the baseline here (default: standard output). Entries of an "
                             "existing FILE that still match keep their reason and until.")
    parser.add_argument("--match-values", action="store_true",
                        help="Also match on the expected and actual values, where every finding "
                             "of an entry has the same ones (a type that changes again is then a "
                             "new finding).")


def _report(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = orjson.loads(path.read_bytes())  # an object: the schema says so
    except OSError as exc:
        raise UsageError(f"The report {path} cannot be read: {exc.strerror or exc}.") from None
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"The report {path} is not JSON: {exc}.") from None
    problem = schema_problem(data)
    if problem is not None:
        raise UsageError(f"{path} is not a drift report of ghl-contract: {problem}.")
    return data


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    findings: list[Finding] = []
    previous: list[Entry] = []
    if args.output is not None and args.output.exists():
        # the file a reviewer edited last comes first: its reasons win
        previous.extend(load(args.output).entries)
    for path in args.reports:
        data = _report(path)
        found, named = report_findings(data)
        findings.extend(found)
        previous.extend(named)
        if data["problems"]:
            print(f"note: {path} lists {plural(len(data['problems']), 'input problem')}; "
                  "what could not be read is not in the baseline.", file=stderr)
    entries = entries_for(findings, previous, match_values=args.match_values)
    text = dumps(entries)
    if args.output is None:
        stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"The baseline cannot be written to {args.output}: "
                             f"{exc.strerror or exc}.") from None
        print(f"{args.output}: {plural(len(entries), 'entry', 'entries')} for "
              f"{plural(len(findings), 'finding')}.", file=stdout)
    expired = [entry for entry in entries if entry.expired(today())]
    for entry in expired:
        print(f"note: {entry.describe()} is past its until date "
              f"{entry.until.isoformat() if entry.until else ''}: its findings still fail; "
              "change or remove the date.", file=stderr)
    return 0
