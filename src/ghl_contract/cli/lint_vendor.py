"""`ghl-contract lint-vendor FILE`: where a vendor OpenAPI file contradicts the documented examples
and its own, and where it differs from the pinned contract, each with its recorded decision.
Exit 1 when a contradiction has no recorded decision, 0 otherwise, 2 on bad input."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from ghl_contract import reporters
from ghl_contract.cli.diff import add_ref_argument
from ghl_contract.openapi_source import DEFAULT_OPERATION, load_document, ref_mapping
from ghl_contract.registry import pinned
from ghl_contract.specdiff import contract_operation
from ghl_contract.vendor_lint import documented_examples, lint, load_decisions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", type=Path, help="the vendor's OpenAPI document.")
    parser.add_argument("--operation", default=DEFAULT_OPERATION, metavar="ID",
                        help=f"operationId (or 'METHOD /path') to lint; default "
                             f"{DEFAULT_OPERATION}.")
    parser.add_argument("--format", choices=reporters.FORMATS, default="text",
                        help="report format (default text).")
    add_ref_argument(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    document = load_document(args.file, ref_mapping(args.ref))
    operation_id = document.operation(args.operation).operation_id
    decisions, notes = load_decisions()
    report = lint(document, operation_id, documented_examples(),
                  contract_operation(pinned(), operation_id, "the pinned contract"),
                  decisions, notes)
    reporters.write(args.format, report, stdout)
    return report.exit_code()
