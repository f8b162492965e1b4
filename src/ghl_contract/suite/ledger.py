"""What a run created on its target, kept where a killed run cannot lose it: the ledger.

Every object a 2xx answer of an operation with `creates` made (an estimate, an invoice, also one a
request meant to be refused made) is recorded at once as the report's `CreatedObject`; the ledger
file (`created.json` in the report directory) is rewritten atomically after every change, so that
after a kill `ghl-contract cleanup REPORT_DIR` finds every object the run made and what became of
it. What undoes an object is the manifest's business (its operation's `creates.undo`). The file
holds no secret: the token is given again to the cleanup.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ghl_contract.errors import UsageError
from ghl_contract.findings import Cleanup, CreatedObject, value_at
from ghl_contract.operations import Operation

LEDGER_NAME = "created.json"


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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, created: CreatedObject) -> None:
        with self._lock:
            if any(e.kind == created.kind and e.id == created.id for e in self.entries):
                return
            self.entries.append(created)
            self._save()

    def settle(self, created: CreatedObject, outcome: Cleanup, detail: str | None = None) -> None:
        """Record what cleanup did with `created`."""
        with self._lock:
            self.entries = [replace(e, cleanup=outcome, detail=detail)
                            if (e.kind, e.id) == (created.kind, created.id) else e
                            for e in self.entries]
            self._save()

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "api_version": self.api_version,
                "created": [entry.to_dict() for entry in self.entries]}

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
            return cls(str(data["target"]), str(data["api_version"]), path, entries)
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"The ledger {path} is not one ghl-contract wrote ({exc}).") from None

    def pending(self) -> list[CreatedObject]:
        """What still needs cleaning up, newest first (an invoice before its estimate)."""
        return [e for e in reversed(self.entries) if e.left]
