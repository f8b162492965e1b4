"""`ghl-contract diff OLD NEW`: what changed for one operation between two contracts, and whether it
breaks a client. Exit 1 when anything is breaking, 0 otherwise, 2 on bad input."""

from __future__ import annotations

import argparse
from typing import TextIO

from ghl_contract import reporters
from ghl_contract.openapi_source import DEFAULT_OPERATION, ref_mapping
from ghl_contract.specdiff import PINNED, diff_operations, load_operation


def add_operation_arguments(parser: argparse.ArgumentParser) -> None:
    """--operation, --format and --ref: shared with lint-vendor."""
    parser.add_argument("--operation", default=DEFAULT_OPERATION, metavar="ID",
                        help=f"operationId (or 'METHOD /path') to compare; default "
                             f"{DEFAULT_OPERATION}.")
    parser.add_argument("--format", choices=reporters.FORMATS, default="text",
                        help="report format (default text).")
    parser.add_argument("--ref", action="append", default=[], metavar="PATH=FILE",
                        help="resolve the external reference PATH (as written in the document, "
                             "e.g. ../common/common-schemas.json) to FILE; repeatable.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    contract = f"'{PINNED}', a directory of this project's schemas, or an OpenAPI file"
    parser.add_argument("old", metavar="OLD", help=f"the contract before: {contract}.")
    parser.add_argument("new", metavar="NEW", help=f"the contract after: {contract}.")
    add_operation_arguments(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    refs = ref_mapping(args.ref)
    old = load_operation(args.old, args.operation, refs)
    new = load_operation(args.new, args.operation, refs)
    report = diff_operations(old, new)
    reporters.write(args.format, report, stdout)
    return report.exit_code()
