"""How a live run ends: what it created cleaned up, within a time bound (15 s after SIGTERM).

Cleanup requests go through a client of their own: they are judged and reported like any
exchange, never counted against --max-writes, and they run whatever the run's deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ghl_contract.judge import expect
from ghl_contract.operations import Operation
from ghl_contract.registry import pinned
from ghl_contract.suite.cleanup import CLEANUP_SECONDS, Answer, clean_up
from ghl_contract.suite.context import RunContext

# Seconds a cleanup request may take: several fit in CLEANUP_SECONDS.
CLEANUP_REQUEST_TIMEOUT = 4.0
_UNLIMITED_WRITES = 1_000_000


def clean_up_run(run: RunContext) -> None:
    """Undo what the run created (--cleanup); outcomes go to the ledger and the report."""
    if not run.ledger.pending() and not run.ledger.unsettled():
        return
    from ghl_contract.transport import open_client

    settings = replace(run.settings, allow_writes=True, max_writes=_UNLIMITED_WRITES,
                       request_timeout=min(run.settings.request_timeout,
                                           CLEANUP_REQUEST_TIMEOUT),
                       run_timeout=CLEANUP_SECONDS + CLEANUP_REQUEST_TIMEOUT,
                       record_dir=None)  # the run's recording stays the run's
    with open_client(settings, base_url=run.target.base_url, token=run.target.token,
                     secrets=run.target.secrets) as client:
        def send(operation: Operation, path: Mapping[str, str],
                 query: Mapping[str, str] | None, body: Any) -> Answer:
            exchange = client.request(operation, path=path, query=query, body=body,
                                      note={"intent": "cleanup"})
            # Judged like any answer: a cleanup that exposes drift says so; a 404 is fair.
            allowed = expect({operation.success.status, 400, 404})
            found = run.examiner.examine(exchange, allowed, operation=operation,
                                         request=body or query, path=path, source="cleanup")
            run.record(found)
            fault = next((f.message for f in exchange.faults), None)
            return Answer(exchange.status, exchange.response_body, fault)

        run.notes.extend(clean_up(run.ledger, pinned().manifest, run.settings.cleanup, send))
