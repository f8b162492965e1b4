"""What a run knows exactly because it made it: checks across exchanges, not within one answer.

An estimate the run created is known field by field, so the 201 that created it, the invoice a
conversion made of it and the invoice read back later can each be held to it: a created estimate
that does not echo what was sent, an invoice that drops the estimate's discount or changes a line,
a read-back that differs from what the conversion answered. Each difference is one finding at its
pointer in the later answer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from ghl_contract.findings import Finding, pointer, pointer_within, show
from ghl_contract.rules import finding

# What a created estimate echoes of the request that made it, field by field.
ECHOED = ("altId", "altType", "name", "currency", "discount", "title")
# What each item of it echoes.
ITEM_ECHOED = ("name", "currency", "amount", "qty", "type")


def _differs(rule: str, at: tuple[str | int, ...], wanted: Any, got: Any,
             what: str) -> Finding:
    where = pointer(at)
    return finding(rule, where, f"{where} is {show(got)}, but {what} {show(wanted)}.", wanted, got)


def created_findings(sent: Mapping[str, Any], made: Any) -> list[Finding]:
    """Where the body that created an estimate (`made`) does not echo what was `sent`."""
    if not isinstance(made, Mapping):
        return []
    found = [_differs("created-mismatch", (name,), sent[name], made.get(name),
                      "the request that created it sent")
             for name in ECHOED if name in sent and name in made and made[name] != sent[name]]
    found.extend(_items("created-mismatch", ("items",), sent.get("items"), made.get("items"),
                        "the request that created it sent"))
    return found


def carried_findings(estimate: Mapping[str, Any], invoice: Any,
                     at: tuple[str, ...] = ("invoice",)) -> list[Finding]:
    """Where an invoice made from an estimate the run created does not carry that estimate's
    location, currency, discount and items (`at`: the invoice's place in its answer)."""
    if not isinstance(invoice, Mapping):
        return []
    found: list[Finding] = []
    for field, rule in (("altId", "location-mismatch"), ("currency", "currency-mismatch"),
                        ("discount", "discount-mismatch")):
        if field in estimate and field in invoice and invoice[field] != estimate[field]:
            found.append(_differs(rule, (*at, field), estimate[field], invoice[field],
                                  "the estimate the run created has"))
    found.extend(_items("items-mismatch", (*at, "invoiceItems"), estimate.get("items"),
                        invoice.get("invoiceItems"), "the estimate the run created has"))
    return found


def _items(rule: str, at: tuple[str, ...], wanted: Any, got: Any, what: str) -> Iterator[Finding]:
    if not isinstance(wanted, list) or not isinstance(got, list):
        return
    if len(wanted) != len(got):
        yield finding(rule, pointer(at), f"{pointer(at)} has {len(got)} items, but {what} "
                      f"{len(wanted)}.", len(wanted), len(got))
        return
    for index, (ours, theirs) in enumerate(zip(wanted, got, strict=True)):
        if not isinstance(ours, Mapping) or not isinstance(theirs, Mapping):
            continue
        for name in ITEM_ECHOED:
            if name in ours and name in theirs and theirs[name] != ours[name]:
                yield _differs(rule, (*at, index, name), ours[name], theirs[name], what)


def read_back_findings(first: Any, again: Any, at: tuple[str | int, ...] = (),
                       reported: Collection[str] = ()) -> list[Finding]:
    """Where an object read back (`again`) differs from what the request that made it answered
    (`first`): every field the first answer had, at its pointer. A field only the read-back has
    (a summary the conversion's answer leaves out) is no difference, and neither is one where the
    first answer was already reported (`reported`: pointers of its findings): that change has
    its finding."""
    if any(pointer_within(pointer(at), where) for where in reported if where):
        return []
    found: list[Finding] = []
    if isinstance(first, Mapping) and isinstance(again, Mapping):
        for name, value in first.items():
            if name not in again:
                where = pointer((*at, name))
                if any(pointer_within(where, r) for r in reported if r):
                    continue
                found.append(finding("read-back-mismatch", where,
                                     f"{where} is absent when read back, but the answer that "
                                     f"made it had {show(value)}.", value, "absent"))
            elif name not in _CHANGES_ON_READ:
                found.extend(read_back_findings(value, again[name], (*at, name), reported))
    elif isinstance(first, list) and isinstance(again, list) and len(first) == len(again):
        for index, (one, other) in enumerate(zip(first, again, strict=True)):
            found.extend(read_back_findings(one, other, (*at, index), reported))
    elif first != again:
        where = pointer(at) or "The object"
        found.append(finding("read-back-mismatch", pointer(at),
                             f"{where} is {show(again)} when read back, but the answer that made "
                             f"it had {show(first)}.", first, again))
    return found


# Fields a server may change between two reads of an unchanged object.
_CHANGES_ON_READ = frozenset({"updatedAt", "__v", "traceId", "lastVisitedAt"})
