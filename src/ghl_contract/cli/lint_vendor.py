"""`ghl-contract lint-vendor FILE [--operation ID]`: where a vendor OpenAPI file contradicts its own
examples, where its examples fail the contract, and where its schemas differ from the contract, for
one operation of the manifest or all of them, each place with its recorded decision.
Exit 1 when a contradiction has no recorded decision, 0 otherwise, 2 on bad input."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from ghl_contract import reporters
from ghl_contract.cli.contract import add_contract_arguments, apply_contract
from ghl_contract.cli.diff import add_ref_argument
from ghl_contract.decisions import load_decisions
from ghl_contract.openapi_source import load_document, ref_mapping
from ghl_contract.registry import pinned
from ghl_contract.vendor_lint import lint, lint_targets


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract_arguments(parser)
    parser.add_argument("file", metavar="FILE", type=Path, help="the vendor's OpenAPI document.")
    parser.add_argument("--operation", default=None, metavar="ID",
                        help="operationId (or 'METHOD /path') of the manifest to lint; default "
                             "every operation of the manifest the file describes.")
    parser.add_argument("--format", choices=reporters.FORMATS, default="text",
                        help="report format (default text).")
    add_ref_argument(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    apply_contract(args)
    document = load_document(args.file, ref_mapping(args.ref))
    registry = pinned()
    operations, absent = lint_targets(document, registry.manifest, args.operation)
    report = lint(document, operations, registry, load_decisions())
    report.notes.extend(f"{operation.id} ({operation.label}) is not in {args.file.name}: not "
                        "linted." for operation in absent)
    reporters.write(args.format, report, stdout)
    return report.exit_code()
