"""`ghl-contract diff OLD NEW`: what changed between two contracts, operation by operation, and
whether it breaks a client. Exit 1 when a change of the --fail-on severity is there (default:
breaking), 0 otherwise, 2 on bad input."""

from __future__ import annotations

import argparse
from typing import TextIO

from ghl_contract.cli.contract import add_contract_arguments, apply_contract
from ghl_contract.openapi_source import ref_mapping
from ghl_contract.specdiff import FAIL_ON, PINNED, diff_documents, load_source
from ghl_contract.specdiff.report import FORMATS, write


def add_ref_argument(parser: argparse.ArgumentParser) -> None:
    """--ref: shared with lint-vendor."""
    parser.add_argument("--ref", action="append", default=[], metavar="PATH=FILE",
                        help="resolve the external reference PATH (as written in the document, "
                             "e.g. ../common/common-schemas.json) to FILE; repeatable.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract_arguments(parser)
    contract = f"'{PINNED}', a directory of this project's schemas, or an OpenAPI file"
    parser.add_argument("old", metavar="OLD", help=f"the contract before: {contract}.")
    parser.add_argument("new", metavar="NEW", help=f"the contract after: {contract}.")
    parser.add_argument("--operation", action="append", default=[], metavar="ID",
                        help="an operationId (or 'METHOD /path') to compare; repeatable. Default: "
                             "every operation of either side, or, where a side is this "
                             "project's contract, every operation it describes.")
    parser.add_argument("--fail-on", choices=FAIL_ON, default="breaking",
                        help="exit 1 on a breaking change (default), on any change "
                             "(non-breaking), or never.")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="report format (default text; markdown fits a pull-request "
                             "comment).")
    add_ref_argument(parser)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    apply_contract(args)
    refs = ref_mapping(args.ref)
    old, new = load_source(args.old, refs), load_source(args.new, refs)
    contracts = [side.document for side in (old, new) if side.contract]
    # A contract describes the operations this project tests; a vendor file describes all of
    # HighLevel's: the ones only the vendor file has are listed, not reported as changes.
    only = contracts if len(contracts) == 1 else []
    diff = diff_documents(old.document, new.document, args.operation, only=only)
    write(args.format, diff, stdout)
    return diff.exit_code(args.fail_on)
