"""The mock's two ways of answering: as HighLevel documents (`documented`) or as it was seen
live (`observed`, what observed.json and the project's LIVE-FACTS notes record).

A behaviour profile is chosen once per mock (`--profile`); a drift or fault profile applies on
top of either. Everything the two profiles do alike is not here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

from ghl_contract.mock.patch import Edit, check
from ghl_contract.registry import pinned

_HERE = Path(__file__).resolve().parent
OBSERVED = _HERE / "observed.json"
OBSERVED_SCHEMA = _HERE / "observed.schema.json"


@dataclass(frozen=True)
class Database:
    """Fields a request DTO lets through and the database refuses: a 500 naming them."""

    collection: str
    required: tuple[str, ...]  # JSON pointers into the request body; * is every array item


@dataclass(frozen=True)
class AnswerEdit:
    """Edits of every success answer of one operation and status."""

    operation: str
    status: int
    patch: tuple[Edit, ...]


@dataclass(frozen=True)
class Created:
    """The shape of an object as the live API answers its creation."""

    fields: tuple[str, ...]  # its top-level keys, exactly, in order
    configuration: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Behaviour:
    """What one behaviour profile does where the two differ."""

    name: str
    description: str
    # class-validator's global pipe (forbidNonWhitelisted): an undocumented request property is
    # a 422 "property X should not exist", and 422 messages are its sentences.
    nest_validation: bool = False
    # NestJS reads a request without a body as {} (then 422); documented: 400, the body is empty.
    empty_body_is_object: bool = False
    # created estimates, dates and action-history entries as they were seen live
    observed_objects: bool = False
    reinvoicing_refused: bool = False  # an invoiced estimate is not invoiced again (400)
    draft_void_refused: bool = False  # HighLevel's documented 400 for voiding a draft
    requests: Mapping[str, tuple[Edit, ...]] = field(default_factory=dict)  # op -> schema edits
    database: Mapping[str, Database] = field(default_factory=dict)  # op -> what the DB requires
    answers: tuple[AnswerEdit, ...] = ()
    created: Mapping[str, Created] = field(default_factory=dict)  # kind -> its shape, as created

    def answer_edits(self, operation: str, status: int) -> tuple[Edit, ...]:
        return tuple(edit for answer in self.answers
                     if answer.operation == operation and answer.status == status
                     for edit in answer.patch)


def _observed() -> Behaviour:
    data = json.loads(OBSERVED.read_text(encoding="utf-8"))
    resources = [("https://ghl-contract.example/mock/profiles.schema.json",
                  json.loads((_HERE / "profiles.schema.json").read_text(encoding="utf-8")))]
    validator = jsonschema_rs.validator_for(
        json.loads(OBSERVED_SCHEMA.read_text(encoding="utf-8")),
        registry=jsonschema_rs.Registry(resources))
    error = next(iter(validator.iter_errors(data)), None)
    if error is not None:
        where = "/" + "/".join(str(part) for part in error.instance_path)
        raise RuntimeError(f"{OBSERVED} is not valid at {where}: {error.message}.")
    requests = {op: tuple(Edit.of(edit) for edit in entry.get("patch", ()))
                for op, entry in data["requests"].items()}
    database = {op: Database(entry["database"]["collection"],
                             tuple(entry["database"]["required"]))
                for op, entry in data["requests"].items() if "database" in entry}
    answers = tuple(AnswerEdit(entry["operation"], entry["status"],
                               tuple(Edit.of(edit) for edit in entry["patch"]))
                    for entry in data["answers"])
    created = {op: Created(tuple(entry["fields"]), entry.get("configuration", {}))
               for op, entry in data["created"].items()}
    manifest = pinned().manifest
    named = [*requests, *(answer.operation for answer in answers)]
    unknown = sorted({op for op in named if op not in manifest.operations})
    kinds = {op.creates.object for op in manifest if op.creates}
    uncreated = sorted(kind for kind in created if kind not in kinds)
    problem = (f"names operations the manifest does not have: {', '.join(unknown)}" if unknown
               else f"shapes objects no operation creates: {', '.join(uncreated)}" if uncreated
               else next(filter(None, (check(edits, {}) for edits in
                                       (*requests.values(), *(a.patch for a in answers)))), None))
    if problem:
        raise RuntimeError(f"{OBSERVED} {problem}.")
    return Behaviour(
        "observed",
        "As the live API was seen to answer: estimates created with the observed fields, dates "
        "in the location's time zone, class-validator's 422s (unknown properties refused), "
        "title required by the database (500), action history as {estimateStatus, updatedAt}, "
        "lists without traceId, no second invoicing of an invoiced estimate, no void of a draft.",
        nest_validation=True, empty_body_is_object=True, observed_objects=True,
        reinvoicing_refused=True, draft_void_refused=True,
        requests=requests, database=database, answers=answers, created=created)


DOCUMENTED = Behaviour(
    "documented",
    "As HighLevel documents it (the contract's schemas and examples); where the documentation "
    "is silent, as docs/mock.md says.")

BEHAVIOURS: dict[str, Behaviour] = {profile.name: profile for profile in (DOCUMENTED, _observed())}
