"""The options every command that reads the contract shares: --schemas and --contract-patch."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ghl_contract.registry import ContractRegistry, use_contract


def add_contract_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--schemas", metavar="DIR", type=Path, default=None,
        help="A whole contract directory (schemas and operations/) instead of the packaged one "
             "[env GHL_SCHEMAS].")
    parser.add_argument(
        "--contract-patch", metavar="FILE", default=None,
        help="An RFC 6902 JSON Patch over the contract (see schemas/patches/README.md), or "
             "`observed` for what the live API was seen to do [env GHL_CONTRACT_PATCH].")


def apply_contract(args: argparse.Namespace) -> ContractRegistry:
    """Make the contract the options (or their variables) name the one this command uses."""
    schemas = args.schemas or os.environ.get("GHL_SCHEMAS") or None
    patch = args.contract_patch or os.environ.get("GHL_CONTRACT_PATCH") or None
    return use_contract(Path(schemas) if schemas else None, patch)
