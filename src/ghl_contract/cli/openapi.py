"""`ghl-contract openapi`: prints the contract as an OpenAPI 3.1 document (JSON or YAML)."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from ghl_contract import openapi_doc
from ghl_contract.cli.contract import add_contract_arguments, apply_contract
from ghl_contract.errors import UsageError
from ghl_contract.settings import LIVE_BASE_URL, is_http_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_contract_arguments(parser)
    parser.add_argument("--format", choices=("json", "yaml"), default="json",
                        help="Output format (default: json; yaml needs PyYAML).")
    parser.add_argument("--server", default=LIVE_BASE_URL, metavar="URL",
                        help=f"servers[0] of the document (default: {LIVE_BASE_URL}).")


def _server(url: str) -> str:
    if not is_http_url(url):
        raise UsageError(f"--server {url!r} is not an http(s) URL.")
    return url.rstrip("/")


def render(document: dict[str, Any], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        import yaml
    except ImportError:
        raise UsageError("--format yaml needs PyYAML, which is not installed; "
                         "use --format json or install pyyaml.") from None
    text: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return text


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    apply_contract(args)
    document = openapi_doc.build(server=_server(args.server))
    stdout.write(render(document, args.format))
    return 0
