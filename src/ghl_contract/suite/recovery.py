"""What a run may have created without seeing the answer, found again by the manifest's `find`.

The write-ahead ledger holds, for every request of an operation that creates, the name the object
will carry. A request whose outcome the run never learnt (killed while it waited; no answer; a 429
or a 5xx, after which the server may have created it all the same) stays in flight. Each such
entry is looked for in the listing its operation's `creates.find` names, searched by that name;
what matches is added to the ledger as created (its detail says it was found, not seen created),
and cleanup undoes it like any other. This is the one module that reads `find`.

An object named after one the run did not create (the invoice of a conversion of a given
--estimate-id) counts only when it was created after the request was sent; that estimate itself is
never undone, and is reported as kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson

from ghl_contract.findings import CreatedObject, value_at
from ghl_contract.operations import Find, Manifest, Operation
from ghl_contract.suite.ledger import InFlight, Ledger

FOUND = "found by"  # how the detail of a found object begins
# How far the target's clock may be behind the run's: an object not named by the run counts when
# created no earlier than this before the request was sent.
CLOCK_SKEW = timedelta(minutes=5)
MAX_PAGES = 10  # pages of a listing read to find one object

# (listing operation, its query) -> (status, body); status None when no answer came
Listing = Callable[[Operation, Mapping[str, str]], tuple[int | None, bytes]]


def recover(ledger: Ledger, manifest: Manifest, listing: Listing, *,
            expired: Callable[[], bool] = lambda: False) -> list[str]:
    """Look for what each unsettled request of `ledger` may have created; add what is found to
    the ledger and settle the request. Returns a sentence per thing to report (an estimate kept,
    a request that could not be looked for, which then stays unsettled). A listing is asked
    once for each query; nothing more is asked once `expired()`."""
    notes: list[str] = []
    own = ledger.names()
    listing = _once(listing)
    names: dict[str, str | None] = {}  # the names of objects the run did not create
    left = ledger.unsettled()
    for index, entry in enumerate(left):
        if expired():
            notes.append(f"Cleanup ran out of time: {len(left) - index} requests whose answer "
                         "was lost were not looked for; `ghl-contract cleanup` does it.")
            break
        creator = manifest.operations.get(entry.operation)
        find = creator.creates.find if creator and creator.creates else None
        if creator is None or creator.creates is None or find is None:
            ledger.settle_intent(entry, "unfindable", [], "no listing finds what it creates")
            notes.append(f"{entry.operation} sent at {entry.at}: nothing in the manifest finds "
                         "what it may have created; check the target by hand.")
            continue
        name = entry.name
        if entry.named_by is not None:
            name = own.get(entry.named_by) or name
            if entry.named_by not in own:
                notes.append(f"{find.path_object} {entry.named_by}: kept (given to the run, not "
                             "created by it)")
                if name is None:
                    if entry.named_by not in names:
                        names[entry.named_by] = _name_of(entry.named_by, find, entry.location,
                                                         manifest, listing)
                    name = names[entry.named_by]
        if name is None:
            notes.append(f"{entry.operation} sent at {entry.at}: the name of what it may have "
                         "created is unknown, so it could not be looked for.")
            continue
        items = _listed(manifest.get(find.operation), find, entry.location, listing, name)
        if items is None:
            notes.append(f"{entry.operation} sent at {entry.at}: {find.operation} gave no "
                         f"listing to look for {name!r} in; run the cleanup again.")
            continue
        made = [CreatedObject(creator.id, creator.creates.object, object_id,
                              location=entry.location,
                              detail=f"{FOUND} {find.operation}: the run never saw it created")
                for object_id in _matching(items, find, name, entry, ledger)]
        ledger.settle_intent(entry, "found", [m.id for m in made], made=made)
    return list(dict.fromkeys(notes))


def _once(listing: Listing) -> Listing:
    """`listing`, asked once per operation and query."""
    answers: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[int | None, bytes]] = {}

    def ask(operation: Operation, query: Mapping[str, str]) -> tuple[int | None, bytes]:
        key = (operation.id, tuple(sorted(query.items())))
        if key not in answers:
            answers[key] = listing(operation, query)
        return answers[key]
    return ask


def _matching(items: list[Any], find: Find, name: str, entry: InFlight,
              ledger: Ledger) -> list[str]:
    """The ids of the listed objects named `name` that the ledger does not know yet (and, for a
    name the run did not give, created after the request was sent)."""
    known = {made.id for made in ledger.entries} | {e.named_by for e in ledger.in_flight
                                                     if e.named_by}
    ours = ledger.label is not None and ledger.label in name
    since = datetime.fromisoformat(entry.at) - CLOCK_SKEW
    found: list[str] = []
    for item in items:
        object_id = value_at(item, find.id)
        if not isinstance(object_id, str) or object_id in known or object_id in found:
            continue
        if value_at(item, find.name) != name:
            continue
        if not ours and not _created_since(item, find, since):
            continue
        found.append(object_id)
    return found


def _created_since(item: Any, find: Find, since: datetime) -> bool:
    created = value_at(item, find.created) if find.created else None
    try:
        return isinstance(created, str) and datetime.fromisoformat(created) >= since
    except ValueError:
        return False  # an object the run cannot date is not taken for its own


def _query(find: Find, location: str | None, name: str | None) -> dict[str, str]:
    """The listing's query: {location} and {name} filled; a parameter that needs a name and has
    none is left out (the whole listing)."""
    query = {}
    for key, value in find.query.items():
        if "{name}" in value and name is None:
            continue
        query[key] = value.replace("{location}", location or "").replace("{name}", name or "")
    return query


def _listed(operation: Operation, find: Find, location: str | None, listing: Listing,
            name: str | None, wanted: Callable[[list[Any]], bool] = lambda _: False
            ) -> list[Any] | None:
    """The objects the listing gives for `name`, page after page (until `wanted` holds of the
    objects so far, or MAX_PAGES); None when it gives no readable answer."""
    query = _query(find, location, name)
    items: list[Any] = []
    for _ in range(MAX_PAGES):
        status, body = listing(operation, query)
        if status is None or not 200 <= status < 300:
            return None
        try:
            page = value_at(orjson.loads(body), find.items)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(page, list):
            return None
        items.extend(page)
        limit, offset = query.get("limit"), query.get("offset")
        if wanted(items) or not (limit and offset and limit.isdigit() and offset.isdigit()) \
                or len(page) < int(limit):
            break
        query["offset"] = str(int(offset) + int(limit))
    return items


def _name_of(object_id: str, find: Find, location: str | None, manifest: Manifest,
             listing: Listing) -> str | None:
    """The name of the object `object_id` (of the kind `find.path_object`), read from the listing
    that finds objects of its kind, page by page."""
    if find.path_object is None:
        return None
    own = manifest.creating(find.path_object).creates
    assert own is not None  # the manifest loader checks both
    assert own.find is not None
    by = own.find

    def found(items: list[Any]) -> bool:
        return any(value_at(item, by.id) == object_id for item in items)

    items = _listed(manifest.get(by.operation), by, location, listing, None, found) or []
    name = next((value_at(item, by.name) for item in items
                 if value_at(item, by.id) == object_id), None)
    return name if isinstance(name, str) else None
