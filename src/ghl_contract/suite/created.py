"""What a run created, read from the answers themselves: an `on_exchange` hook of the run's client.

Every 2xx answer of an operation that creates (the manifest's `creates`) names an object the run
made, whatever the request was for: a request that expected a refusal and got a 2xx created one
too. Where its id, number and location sit in the answer is the manifest's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ghl_contract.findings import value_at
from ghl_contract.operations import Manifest
from ghl_contract.registry import pinned
from ghl_contract.transport import Exchange


@dataclass(frozen=True)
class Created:
    """One object a run created (so that it can be cleaned up)."""

    operation: str  # the operation whose answer says it created it
    object: str  # what it is: invoice, estimate ...
    id: str
    number: str | int | None
    location_id: str | None
    path: Mapping[str, str] = field(default_factory=dict)  # the request's path parameters

    @property
    def made_from(self) -> str:
        """The request's path parameters as words: `estimateId est-1`."""
        return ", ".join(f"{name} {value}" for name, value in self.path.items())


class CreatedLog:
    """Collects what the exchanges it is shown created. Call it with each exchange."""

    def __init__(self, location_id: str | None = None, manifest: Manifest | None = None) -> None:
        self._location_id = location_id  # the run's, when neither answer nor request names one
        self._manifest = manifest or pinned().manifest
        self.objects: list[Created] = []

    def __call__(self, exchange: Exchange) -> None:
        operation = self._manifest.operations.get(exchange.operation or "")
        creates = operation.creates if operation is not None else None
        if (creates is None or exchange.status is None or not 200 <= exchange.status < 300
                or any(f.rule == "body-too-large" for f in exchange.faults)):
            return
        answer = _parsed(exchange.response_body)
        object_id = value_at(answer, creates.id)
        if not isinstance(object_id, str | int) or isinstance(object_id, bool):
            return  # an answer that names nothing: the judge says what is wrong with it
        number = value_at(answer, creates.number) if creates.number else None
        location = value_at(answer, creates.location) if creates.location else None
        if not isinstance(location, str):
            sent = _parsed(exchange.request_body)
            location = sent.get("altId") if isinstance(sent, dict) else None
        self.objects.append(Created(
            operation=operation.id if operation else "",
            object=creates.object,
            id=str(object_id),
            number=number if isinstance(number, str | int) and not isinstance(number, bool)
            else None,
            location_id=location if isinstance(location, str) else self._location_id,
            path=dict(exchange.path),
        ))


def _parsed(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
