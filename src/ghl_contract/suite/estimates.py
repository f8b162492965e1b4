"""The estimates a run converts: the mock's seed, the one a team gives, or those the run creates.

A contract test names an estimate by a *key* (what its `ghl_estimate` parameter shows); the run
turns it into an estimate id when the test needs it:

- ``seeded`` (the embedded mock): the keys are the seed's estimate ids, converted as often as the
  tests like (the mock allows it);
- ``given`` (``--estimate-id``): the one estimate a team must use, converted once at most, with
  ``markAsInvoiced: false`` so that it stays convertible night after night;
- ``created`` (a live run with --allow-writes and no --estimate-id): every key is a template of
  ``contract_tests/data/estimates.json``; the run creates the estimate when a test first needs it,
  one per conversion that marks it invoiced, so that no estimate is ever invoiced twice.

Creating goes through the run's probe (judged, budgeted, recorded in the ledger for cleanup).
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ghl_contract.errors import UsageError
from ghl_contract.resources import contract_tests_dir

SEEDED, GIVEN, CREATED = "seeded", "given", "created"
TEMPLATES_FILE = "estimates.json"
BASE = "base"  # the created estimate that conversions without markAsInvoiced and refusals use


def templates() -> dict[str, dict[str, Any]]:
    """The create-estimate bodies of `contract_tests/data/estimates.json`, by key."""
    path = contract_tests_dir() / "data" / TEMPLATES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = data["estimates"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"The estimate templates {path} cannot be read: {exc}.") from None
    if not isinstance(found, dict) or not found or BASE not in found:
        raise UsageError(f"The estimate templates {path} hold no {BASE!r} estimate.")
    return found


def run_label(now: datetime | None = None) -> str:
    """A label no other run has: when it started (UTC, to the second) and six random hex digits.
    Every estimate the run creates carries it in its name (with its template and a number), so
    that a cleanup, or a person, finds what a killed run left."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def filled(template: Mapping[str, Any], location: str, label: str,
           now: datetime | None = None) -> dict[str, Any]:
    """A template with its placeholders filled: $location, $label, $today and $in30days."""
    now = now or datetime.now(UTC)
    values = {"$location": location, "$label": label, "$today": now.date().isoformat(),
              "$in30days": (now + timedelta(days=30)).date().isoformat()}

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            for name, text in values.items():
                value = value.replace(name, text)
            return value
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        return value

    result: dict[str, Any] = fill(copy.deepcopy(dict(template)))
    return result


@dataclass
class Estimates:
    """The run's estimates by key; `create(key)` makes one (created mode) and returns its id."""

    mode: str
    keys: tuple[str, ...]  # what contract tests are parametrized with
    create: Callable[[str], str] | None = None
    _ids: dict[str, str] = field(default_factory=dict)
    _turn: int = 0

    def id(self, key: str) -> str:
        """The estimate behind `key` (created on first use in created mode)."""
        if self.mode != CREATED:
            return key
        if key not in self._ids:
            assert self.create is not None
            self._ids[key] = self.create(key)
        return self._ids[key]

    def for_conversion(self, key: str, marks: bool) -> str:
        """The estimate a conversion of `key` goes to: a fresh one when it marks the estimate
        invoiced (created mode), else the key's own."""
        if self.mode == CREATED and marks:
            assert self.create is not None
            return self.create(key)
        return self.id(key)

    @property
    def first(self) -> str:
        return self.keys[0]

    def next_key(self) -> str:
        """The keys in turn, for requests that may go to any estimate."""
        key = self.keys[self._turn % len(self.keys)]
        self._turn += 1
        return key

    @property
    def created_ids(self) -> Mapping[str, str]:
        return dict(self._ids)
