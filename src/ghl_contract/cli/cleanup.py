"""`ghl-contract cleanup REPORT_DIR`: undo what a run left on its target, from its ledger.

A live run with --report-dir keeps a ledger (`created.json`) of every object it created and what
became of it, and of every creating request before it is sent. A run killed before it could clean
up (SIGKILL, a lost machine) leaves some of them pending, and perhaps a request whose answer it
never saw: this command looks for what such a request created (by the name the ledger wrote down
for it), then undoes every pending object, with the token given again (--token or GHL_TOKEN), and
records the outcomes in the ledger. It is idempotent: an object the target no longer has is
`gone`, a request already looked for is settled.
Exit codes: 0 nothing is left, 1 something could not be undone or looked for (listed), 2 a usage
error.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from ghl_contract.errors import UsageError
from ghl_contract.operations import Operation
from ghl_contract.settings import CLEANUP_MODES, RunSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report_dir", metavar="REPORT_DIR", type=Path,
                        help="The --report-dir of the run (it holds created.json).")
    parser.add_argument("--token", default=None,
                        help="The run's Bearer token (default: $GHL_TOKEN); never printed.")
    parser.add_argument("--cleanup", choices=[m for m in CLEANUP_MODES if m != "none"],
                        default="delete", help="delete (default) or void (invoices).")
    parser.add_argument("--base-url", default=None,
                        help="Where the objects live (default: the run's target, from the "
                             "ledger).")
    parser.add_argument("--request-timeout", default="10", help="Seconds per request.")


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ghl_contract.registry import pinned
    from ghl_contract.suite.cleanup import Answer, clean_up
    from ghl_contract.suite.ledger import Ledger
    from ghl_contract.transport import UNLIMITED, open_client

    ledger = Ledger.read(args.report_dir)
    pending, unsettled = ledger.pending(), ledger.unsettled()
    if not pending and not unsettled:
        print(f"Nothing is left from the run in {args.report_dir}: "
              f"{len(ledger.entries)} objects, all cleaned up.", file=stdout)
        return 0
    token = args.token or os.environ.get("GHL_TOKEN") or None
    if token is None:
        raise UsageError("cleanup needs the run's token: give --token or set GHL_TOKEN.")
    known = {(made.kind, made.id) for made in ledger.entries}
    settings = RunSettings.from_values(
        {"base_url": args.base_url or ledger.target, "token": token,
         "location_id": ledger.location, "api_version": ledger.api_version,
         "request_timeout": args.request_timeout, "allow_writes": True}, environ={})
    settings = replace(settings, max_writes=UNLIMITED, cleanup=args.cleanup)
    assert settings.base_url is not None
    with open_client(settings, base_url=settings.base_url, token=token) as client:
        def send(operation: Operation, path: Mapping[str, str],
                 query: Mapping[str, str] | None, body: Any) -> Answer:
            exchange = client.request(operation, path=path, query=query, body=body,
                                      note={"intent": "cleanup"})
            fault = next((f.message for f in exchange.faults), None)
            return Answer(exchange.status, exchange.response_body, fault)

        notes = clean_up(ledger, pinned().manifest, args.cleanup, send, seconds=float("inf"))
    for note in notes:
        print(note, file=stdout)
    ours = {(made.kind, made.id) for made in pending}
    for now in ledger.entries:
        if (now.kind, now.id) in ours or (now.kind, now.id) not in known:
            detail = f" ({now.detail})" if now.detail else ""
            print(f"{now.kind} {now.id}: {now.cleanup.value}{detail}", file=stdout)
    left, unresolved = ledger.pending(), ledger.unsettled()
    if left or unresolved:
        print(f"error: {len(left)} objects could not be cleaned up and {len(unresolved)} "
              "requests could not be looked for; run the command again, or remove them by "
              "hand.", file=stderr)
        return 1
    return 0
