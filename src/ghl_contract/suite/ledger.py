"""What a run created on its target, kept where a killed run cannot lose it: the ledger.

Every object a 2xx answer of an operation with `creates` made (an estimate, an invoice, also one a
request meant to be refused made) is recorded at once as the report's `CreatedObject`; the ledger
file (`created.json` in the report directory) is rewritten atomically after every change, so that
after a kill `ghl-contract cleanup REPORT_DIR` finds every object the run made and what became of
it. What undoes an object is the manifest's business (its operation's `creates.undo`). The file
holds no secret: the token is given again to the cleanup.

It is a write-ahead ledger, as a database's log is: before a request of an operation that
creates is sent, an *in-flight* entry says which operation, when, and the name the object will
carry (the manifest's `creates.find`); the answer settles it (the object it recorded, or a
refusal that created nothing). Entries are only ever added. A run killed between the server's
creating and the ledger's recording leaves the entry unsettled, and cleanup finds the object by
that name (recovery.py).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ghl_contract.errors import UsageError
from ghl_contract.findings import Cleanup, CreatedObject, value_at
from ghl_contract.operations import Manifest, Operation
from ghl_contract.transport import Exchange

LEDGER_NAME = "created.json"
# Statuses after which a request certainly created nothing: a refusal. A 429, a 5xx or no answer
# may follow a creation (HighLevel has created and then answered 429): those stay in flight.
_NOTHING_CREATED = frozenset(range(400, 500)) - {408, 409, 429}


@dataclass(frozen=True)
class InFlight:
    """A request of an operation that creates, written down before it was sent."""

    intent: int  # its number in the ledger
    operation: str
    at: str  # when it was sent: UTC, ISO 8601
    location: str | None
    name: str | None  # the name the created object carries, where known before sending
    named_by: str | None  # the id of the object it takes its name from (a conversion's estimate)

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "operation": self.operation, "at": self.at,
                "location": self.location, "name": self.name, "named_by": self.named_by}


Settle = Callable[[Exchange | None], None]


def created_by(operation: Operation, body: Any, sent: Mapping[str, Any] | None = None
               ) -> CreatedObject | None:
    """The object a 2xx `body` of `operation` says it created, if the manifest says it creates
    one and the body names its id."""
    creates = operation.creates
    if creates is None:
        return None
    object_id = value_at(body, creates.id)
    if not isinstance(object_id, str) or not object_id:
        return None
    number = value_at(body, creates.number) if creates.number else None
    location = value_at(body, creates.location) if creates.location else None
    if not isinstance(location, str) and sent is not None:
        location = sent.get("altId")
    return CreatedObject(operation.id, creates.object, object_id,
                         str(number) if isinstance(number, str | int)
                         and not isinstance(number, bool) else None,
                         location if isinstance(location, str) else None)


@dataclass
class Ledger:
    """The objects of one run, in the order they were created; saved after every change when it
    has a file."""

    target: str  # the base URL the objects live on
    api_version: str
    path: Path | None = None
    entries: list[CreatedObject] = field(default_factory=list)
    location: str | None = None  # the run's, when neither answer nor request names one
    label: str | None = None  # the run's label: every name it gives carries it
    in_flight: list[InFlight] = field(default_factory=list)
    settled: list[dict[str, Any]] = field(default_factory=list)  # {"intent": n, ...}, appended
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def unsettled(self) -> list[InFlight]:
        """The requests sent whose outcome the ledger does not know: each may have created an
        object (see recovery.py)."""
        done = {entry["intent"] for entry in self.settled}
        return [entry for entry in self.in_flight if entry.intent not in done]

    def names(self) -> dict[str, str]:
        """Object id -> the name it was created with, for the objects the run created."""
        named = {entry.intent: entry.name for entry in self.in_flight if entry.name}
        return {made: named[entry["intent"]] for entry in self.settled
                for made in entry.get("ids", ()) if entry["intent"] in named}

    def intend(self, operation: Operation, location: str | None, name: str | None,
               named_by: str | None) -> InFlight:
        """Write down, before it is sent, a request of `operation` that may create an object."""
        with self._lock:
            entry = InFlight(len(self.in_flight) + 1, operation.id,
                             datetime.now(UTC).isoformat(timespec="milliseconds"), location,
                             name, named_by)
            self.in_flight.append(entry)
            self._save()
            return entry

    def settle_intent(self, entry: InFlight, how: str, ids: list[str] | None = None,
                      detail: str | None = None, made: list[CreatedObject] | None = None
                      ) -> None:
        """Record how the request `entry` ended (`how`: answered, refused, not-sent, found), with
        the ids of what it created and those objects, in one save."""
        with self._lock:
            for created in made or ():
                self._add(created)
            settled: dict[str, Any] = {"intent": entry.intent, "how": how}
            if ids is not None:
                settled["ids"] = ids
            if detail:
                settled["detail"] = detail
            self.settled.append(settled)
            self._save()

    def write_ahead(self, manifest: Manifest) -> Callable[[Operation, Mapping[str, str], Any],
                                                          Settle | None]:
        """A `before_request` hook of the run's client: an in-flight entry for every request
        of an operation that creates something findable (its manifest entry's `creates.find`),
        settled when its exchange is complete. What settles it: a 2xx whose object is recorded,
        in one attempt (a retried request may have created more), or a refusal; a request not
        sent at all."""
        names = self.names

        def before(operation: Operation, path: Mapping[str, str], body: Any) -> Settle | None:
            find = operation.creates.find if operation.creates else None
            if find is None:
                return None
            sent = _json(body)
            name = value_at(sent, find.name_in_request) if find.name_in_request else None
            named_by = path.get(find.name_of_path) if find.name_of_path else None
            if named_by is not None:
                name = names().get(named_by)
            location = sent.get("altId") if isinstance(sent, Mapping) else None
            entry = self.intend(operation, location if isinstance(location, str) else
                                self.location, name if isinstance(name, str) else None,
                                named_by)

            def settle(exchange: Exchange | None) -> None:
                if exchange is None:
                    self.settle_intent(entry, "not-sent")
                    return
                status = exchange.status
                if status is None or exchange.attempts != 1:
                    return
                if status in _NOTHING_CREATED:
                    self.settle_intent(entry, "refused", [], f"answered {status}")
                elif 200 <= status < 300 and not exchange.faults:
                    made = self._made(operation, exchange)
                    if made is not None:
                        self.settle_intent(entry, "answered", [made.id], made=[made])
            return settle
        return before

    def _made(self, operation: Operation, exchange: Exchange) -> CreatedObject | None:
        try:
            body, sent = orjson.loads(exchange.response_body), _parsed(exchange)
        except orjson.JSONDecodeError:
            return None
        made = created_by(operation, body, sent)
        if made is None:
            return None
        return made if made.location else replace(made, location=self.location)

    def add(self, created: CreatedObject) -> None:
        with self._lock:
            if self._add(created):
                self._save()

    def _add(self, created: CreatedObject) -> bool:
        if any(e.kind == created.kind and e.id == created.id for e in self.entries):
            return False
        self.entries.append(created)
        return True

    def settle(self, created: CreatedObject, outcome: Cleanup, detail: str | None = None) -> None:
        """Record what cleanup did with `created`."""
        with self._lock:
            self.entries = [replace(e, cleanup=outcome, detail=detail)
                            if (e.kind, e.id) == (created.kind, created.id) else e
                            for e in self.entries]
            self._save()

    def hook(self, manifest: Manifest) -> Callable[[Exchange], None]:
        """An `on_exchange` hook of the run's client: every 2xx answer of an operation that
        creates names an object the run made (whatever the request was for: one meant to be
        refused that a server accepted too), and a 2xx of an operation that undoes a pending
        object settles it (the lifecycle tests delete what they made)."""
        def record(exchange: Exchange) -> None:
            operation = manifest.operations.get(exchange.operation or "")
            status = exchange.status
            if operation is None or status is None or not 200 <= status < 300:
                return
            if operation.creates is not None and not exchange.faults:
                made = self._made(operation, exchange)
                if made is not None:
                    self.add(made)
            undone = next(iter(exchange.path.values()), None) if len(exchange.path) == 1 \
                else None
            for entry in self.pending():
                creator = manifest.operations.get(entry.operation or "")
                undo = creator.creates.undo if creator and creator.creates else {}
                for mode, undoing in undo.items():
                    if undoing == operation.id and entry.id == undone:
                        self.settle(entry, Cleanup.VOIDED if mode == "void" else Cleanup.DELETED,
                                    f"by {(exchange.note or {}).get('test', 'the run')}")
        return record

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "api_version": self.api_version, "label": self.label,
                "created": [entry.to_dict() for entry in self.entries],
                "in_flight": [entry.to_dict() for entry in self.in_flight],
                "settled": self.settled}

    def _save(self) -> None:
        if self.path is None:
            return
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".created-", dir=self.path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        Path(temporary).replace(self.path)  # whole before, whole after: never half a file

    @classmethod
    def read(cls, directory: Path) -> Ledger:
        """The ledger a run left in `directory`; one sentence if there is none to read."""
        path = directory / LEDGER_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"{directory} holds no {LEDGER_NAME}: it is not the report directory "
                             "of a run that created objects.") from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"The ledger {path} cannot be read: {exc}.") from None
        try:
            entries = [CreatedObject(entry["operation"], entry["kind"], entry["id"],
                                     entry.get("number"), entry.get("location"),
                                     Cleanup(entry["cleanup"]), entry.get("detail"))
                       for entry in data["created"]]
            in_flight = [InFlight(int(entry["intent"]), entry["operation"], entry["at"],
                                  entry.get("location"), entry.get("name"),
                                  entry.get("named_by"))
                         for entry in data.get("in_flight", [])]
            settled = [dict(entry, intent=int(entry["intent"]))
                       for entry in data.get("settled", [])]
            location = next((e.location for e in entries if e.location), None) or next(
                (e.location for e in in_flight if e.location), None)
            return cls(str(data["target"]), str(data["api_version"]), path, entries, location,
                       data.get("label"), in_flight, settled)
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"The ledger {path} is not one ghl-contract wrote ({exc}).") from None

    def pending(self) -> list[CreatedObject]:
        """What still needs cleaning up, newest first (an invoice before its estimate)."""
        return [e for e in reversed(self.entries) if e.left]


def _json(body: Any) -> Any:
    """A request body as the client was given it: JSON bytes parsed, anything else as it is."""
    if isinstance(body, bytes):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
    return body


def _parsed(exchange: Exchange) -> Mapping[str, Any] | None:
    """What the request sent: its JSON body, else its query."""
    try:
        sent = orjson.loads(exchange.request_body) if exchange.request_body else None
    except orjson.JSONDecodeError:
        sent = None
    return sent if isinstance(sent, Mapping) else dict(exchange.query) or None
