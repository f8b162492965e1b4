"""Leave nothing behind: undo what a run created, at its end, on a signal, or later from its ledger.

First, what a request the run never saw answered may have created is looked for (recovery.py)
and joins the ledger. Then each object of the ledger still pending is undone by the operation its
manifest entry names for the chosen mode: ``delete`` (the default), ``void`` (an invoice; an
estimate has nothing to void, so it is deleted, and an invoice HighLevel refuses to void — a
draft — is deleted instead) or ``none`` (kept, and listed). Invoices go before the estimates
they came from. An object the target no longer has (404, or HighLevel's 400 "Unable to find") is
`gone`: cleanup is idempotent. Cleanup requests are not counted against --max-writes; they always
run, within their own time bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ghl_contract.findings import Cleanup, CreatedObject
from ghl_contract.judge import server_message
from ghl_contract.operations import Manifest, Operation
from ghl_contract.suite.ledger import Ledger
from ghl_contract.suite.recovery import FOUND, recover

MODES = ("delete", "void", "none")
# Seconds cleanup may take in all: a run stopped by SIGTERM must end within 15 s.
CLEANUP_SECONDS = 10.0
_GONE_HINTS = ("unable to find", "not found", "no estimate found", "no invoice found")


@dataclass(frozen=True)
class Answer:
    """What a cleanup request got: a status (None: no answer) and the body."""

    status: int | None
    body: bytes
    fault: str | None = None  # why there was no answer


Send = Callable[[Operation, Mapping[str, str], Mapping[str, str] | None, Any], Answer]


def _request(operation: Operation, created: CreatedObject) -> tuple[dict[str, str],
                                                               dict[str, str] | None, Any]:
    """Path, query and body of the request that undoes `created`: its id in the one path
    parameter, its location where the operation takes one (query or body)."""
    path = {operation.path_names[0]: created.id}
    where = {"altId": created.location or "", "altType": "location"}
    query = where if any(p.name == "altId" for p in operation.in_("query")) else None
    body = where if operation.request is not None else None
    return path, query, body


def _gone(answer: Answer) -> bool:
    if answer.status == 404:
        return True
    message = (server_message(answer.body) or "").lower()
    return answer.status == 400 and any(hint in message for hint in _GONE_HINTS)


def clean_up(ledger: Ledger, manifest: Manifest, mode: str, send: Send, *,
             seconds: float = CLEANUP_SECONDS,
             clock: Callable[[], float] = time.monotonic) -> list[str]:
    """Undo every pending object of `ledger` (see the module docstring); outcomes go into the
    ledger. Stops at the time bound: what is left stays pending for `ghl-contract cleanup`.
    Returns what recovery reports (an estimate kept, a request that could not be looked for)."""
    deadline = clock() + seconds

    def listing(operation: Operation, query: Mapping[str, str]) -> tuple[int | None, bytes]:
        answer = send(operation, {}, query, None)
        return answer.status, answer.body

    notes = recover(ledger, manifest, listing, expired=lambda: clock() >= deadline)
    for created in ledger.pending():
        outcome, detail = _outcome(created, manifest, mode, send, seconds,
                                   expired=clock() >= deadline)
        if created.detail and created.detail.startswith(FOUND):  # how the run knows of it
            detail = "; ".join(part for part in (created.detail.split("; ")[0], detail) if part)
        ledger.settle(created, outcome, detail)
    return notes


def _outcome(created: CreatedObject, manifest: Manifest, mode: str, send: Send, seconds: float,
             *, expired: bool) -> tuple[Cleanup, str | None]:
    """What becomes of `created`: kept, out of time, or what its undoing answered."""
    creator = manifest.operations.get(created.operation or "")
    undo = dict(creator.creates.undo) if creator and creator.creates else {}
    if mode == "none" or not undo:
        return Cleanup.KEPT, None if mode == "none" else "nothing undoes it"
    if expired:
        return Cleanup.FAILED, f"cleanup ran out of its {seconds:g} s"
    chosen = mode if mode in undo else "delete"
    outcome, detail = _undo(manifest.get(undo[chosen]), created, chosen, send)
    if outcome is Cleanup.FAILED and chosen == "void" and "delete" in undo:
        # HighLevel does not void a draft ("You can delete draft invoice!"): delete it.
        refused = detail
        outcome, detail = _undo(manifest.get(undo["delete"]), created, "delete", send)
        if outcome is Cleanup.DELETED:
            detail = f"voiding was refused ({refused}); deleted instead"
    return outcome, detail


def _undo(operation: Operation, created: CreatedObject, mode: str,
          send: Send) -> tuple[Cleanup, str | None]:
    path, query, body = _request(operation, created)
    answer = send(operation, path, query, body)
    if answer.status is not None and 200 <= answer.status < 300:
        return (Cleanup.VOIDED if mode == "void" else Cleanup.DELETED), None
    if answer.status is not None and _gone(answer):
        return Cleanup.GONE, f"{operation.id} answered {answer.status}: the target no longer has it"
    said = server_message(answer.body) if answer.status is not None else answer.fault
    status = f"{answer.status}" if answer.status is not None else "no answer"
    return Cleanup.FAILED, f"{operation.id} answered {status}" + (f": {said}" if said else "")
