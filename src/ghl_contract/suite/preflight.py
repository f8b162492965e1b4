"""Before any write, one read with the run's token: a token the target refuses ends the run there.

A live run first sends the manifest's preflight read (a listing of the run's location) with its
token. No answer is "nothing answers at URL"; a 401 or 403 is "the token was refused for location
L", with the server's own message; either ends the run with exit 2 and nothing written. Any other
answer lets the run go on: judging it is the contract tests' business.
"""

from __future__ import annotations

from dataclasses import replace

from ghl_contract.errors import UsageError
from ghl_contract.judge import server_message
from ghl_contract.registry import pinned
from ghl_contract.settings import RunSettings
from ghl_contract.suite.target import query_for

# Seconds the preflight read may take: a refused token must end the run within 10 s.
PREFLIGHT_TIMEOUT = 8.0


def preflight(settings: RunSettings) -> None:
    """Send the preflight read of a live run; raise UsageError (one sentence) when the target does
    not answer or refuses the token. Nothing is sent for the embedded mock."""
    if not settings.live or settings.base_url is None or settings.location_id is None:
        return
    from ghl_contract.transport import Client

    operation = pinned().manifest.preflight
    if operation is None:
        return
    timeout = min(settings.request_timeout, PREFLIGHT_TIMEOUT)
    quick = replace(settings, request_timeout=timeout, run_timeout=timeout + 1, record_dir=None)
    with Client(quick, base_url=settings.base_url, token=settings.token) as client:
        exchange = client.request(operation, query=query_for(operation, settings.location_id))
    if exchange.status is None:
        why = next((f.message for f in exchange.faults), "no answer")
        raise UsageError(f"Nothing answers at {settings.base_url}: {why.rstrip('.')}.")
    if exchange.status in (401, 403):
        said = server_message(exchange.response_body) or f"HTTP {exchange.status}"
        raise UsageError(f"The token was refused for location {settings.location_id}: "
                         f"{said.rstrip('.')} (HTTP {exchange.status}); nothing was written.")
