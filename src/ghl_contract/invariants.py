"""Semantic invariants no schema can express: one function per rule, registered with what it reads.

An invariant is about the objects a success body holds (an invoice, an estimate), wherever the
operation's manifest entry says they are (`objects`: ``"invoice": "/invoice"``), so one rule serves
every operation whose answer carries that object. Payload invariants need the body alone; exchange
invariants also need what was sent (the request body or query, the path parameters), and run only
where that is known (a run, a HAR entry, the proxy), never on a bare payload.

`reads` names the fields each rule reads, inside its objects: a breaking schema finding at or under
one of them already names the change, so the judge drops the invariant's finding then, and a
contract test of the rule fails when such a finding leaves it unverifiable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypeGuard

from ghl_contract.findings import Finding, show
from ghl_contract.money import TOLERANCE, to_cents, total_verdict
from ghl_contract.operations import Operation
from ghl_contract.rules import finding

# amountDue within this of total - amountPaid in floats is within TOLERANCE in whole cents:
# 0.004 + 3 * 0.005 (rounding each of three values half-up to the cent) < 0.02.
DUE_MARGIN = 0.004


@dataclass(slots=True)
class Facts:
    """What an invariant looks at: the body's objects, and what was sent when it is known.

    Not frozen: `check` builds one for every payload it reads, and a frozen dataclass costs three
    times as much to build. Nothing changes it once built.
    """

    objects: Mapping[str, tuple[str, Any]]  # kind -> (its pointer in the body, its value)
    request: Mapping[str, Any] | None = None  # the fields sent: the JSON body, or the query
    path: Mapping[str, str] | None = None  # the path parameters
    creates: str | None = None  # what the operation creates ("invoice"), if anything

    def at(self, kind: str, inner: str) -> str:
        """The pointer, in the body, of `inner` inside the object `kind`."""
        return self.objects[kind][0] + inner

    def value(self, kind: str) -> Any:
        return self.objects[kind][1]


# A check gives its findings: a generator, or (the payload invariants, which run on every payload
# `check` reads) a list, empty when the rule holds, which costs less than a generator to make.
Check = Callable[[Facts], Iterable[Finding]]


@dataclass(frozen=True)
class Invariant:
    rule: str
    objects: tuple[str, ...]  # the object kinds it needs, each present once in the body
    reads: tuple[tuple[str, str], ...]  # (object kind, pointer inside it) of every field it reads
    exchange: bool  # needs what was sent
    check: Check
    path: str | None = None  # the path parameter it compares with, when it needs one
    creates: str | None = None  # what the operation must create for it to apply

    def applies(self, operation: Operation) -> bool:
        """Whether `operation`'s success body and request can ever break it."""
        objects = operation.success.objects
        return (all(kind in objects and "*" not in objects[kind] for kind in self.objects)
                and (self.path is None or self.path in operation.path_names)
                and (self.creates is None or (operation.creates is not None
                                              and operation.creates.object == self.creates)))


REGISTRY: list[Invariant] = []


def invariant(rule: str, *, objects: tuple[str, ...], reads: tuple[tuple[str, str], ...],
              exchange: bool = False, path: str | None = None,
              creates: str | None = None) -> Callable[[Check], Check]:
    """Register `check` as the invariant `rule` (a code of rules.py)."""
    def register(check: Check) -> Check:
        REGISTRY.append(Invariant(rule, objects, reads, exchange, check, path, creates))
        return check
    return register


def _map(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # `type(x) is dict` first: what JSON parsers make, without the slower ABC check
    return type(value) is dict or isinstance(value, Mapping)


def _number(value: Any) -> TypeGuard[int | float]:
    return type(value) in (int, float) or (
        isinstance(value, int | float) and not isinstance(value, bool))


def _cents(value: int | float) -> Decimal:
    """`value` to the cent; a value too large to carry cents (1e300) stays as it is."""
    try:
        return to_cents(value)
    except InvalidOperation:
        return Decimal(str(value))


def _shown(amount: Decimal) -> str:
    """An amount for a message: to the cent, or in scientific notation when that is too long."""
    text = str(amount)
    return text if len(text) <= 24 else f"{amount:.6E}"


def _expected(amount: Decimal) -> float | str:
    """An amount for a report's `expected`: a JSON number, or its text past a double's range."""
    number = float(amount)
    return number if math.isfinite(number) else str(amount)


def _items_total(invoice: Mapping[str, Any]) -> tuple[Decimal, Decimal] | None:
    """The total the invoice's items add up to (summed, and rounded line by line) when its stated
    total disagrees with both; None when it agrees or cannot be computed."""
    total, items = invoice.get("total"), invoice.get("invoiceItems")
    discount = invoice.get("discount")
    # inline tests, not helpers: this runs on every invoice `check` reads
    if not _number(total) or type(items) is not list:
        return None
    for item in items:
        if type(item) is not dict and not isinstance(item, Mapping):
            return None
    if type(discount) is not dict and not isinstance(discount, Mapping):
        discount = None
    return total_verdict(items, discount, total)


# --- payload invariants: the body alone -------------------------------------------------------

INVOICE_ITEMS = ("/invoiceItems/*/amount", "/invoiceItems/*/qty", "/invoiceItems/*/taxes",
                 "/invoiceItems/*/taxInclusive", "/invoiceItems/*/productId")


@invariant("amount-due-mismatch", objects=("invoice",),
           reads=(("invoice", "/total"), ("invoice", "/amountPaid"), ("invoice", "/amountDue")))
def _amount_due(facts: Facts) -> list[Finding]:
    invoice = facts.objects["invoice"][1]
    total, paid, due = invoice.get("total"), invoice.get("amountPaid"), invoice.get("amountDue")
    if (type(total) in (int, float) and type(paid) in (int, float) and type(due) in (int, float)
            and abs(due - (total - paid)) <= DUE_MARGIN):
        return []  # the float shortcut: settled within a cent
    if not (_number(total) and _number(paid) and _number(due)):
        return []
    expected = _cents(total) - _cents(paid)
    if abs(_cents(due) - expected) <= TOLERANCE:
        return []
    # A total that disagrees with its items is the one change when amountDue agrees with the
    # items' total instead: one finding (total-mismatch), not two.
    computed = _items_total(invoice)
    if computed is not None and abs(_cents(due) - (computed[0] - _cents(paid))) <= TOLERANCE:
        return []
    return [finding("amount-due-mismatch", facts.at("invoice", "/amountDue"),
                  f"amountDue is {show(due)}, but total {show(total)} minus amountPaid "
                  f"{show(paid)} is {_shown(expected)}.", _expected(expected), due)]


@invariant("total-mismatch", objects=("invoice",),
           reads=(("invoice", "/total"), ("invoice", "/discount"),
                  *(("invoice", read) for read in INVOICE_ITEMS)))
def _total(facts: Facts) -> list[Finding]:
    invoice = facts.objects["invoice"][1]
    computed = _items_total(invoice)
    if computed is None:
        return []
    added_up, by_line = computed
    also = "" if by_line == added_up else f" ({_shown(by_line)} rounding each line)"
    return [finding("total-mismatch", facts.at("invoice", "/total"),
                    f"total is {show(invoice.get('total'))}, but its items, taxes and discount "
                    f"add up to {_shown(added_up)}{also}.", _expected(added_up),
                    invoice.get("total"))]


@invariant("currency-mismatch", objects=("invoice", "estimate"),
           reads=(("invoice", "/currency"), ("estimate", "/currency")))
def _currency(facts: Facts) -> list[Finding]:
    objects = facts.objects
    ours, theirs = objects["invoice"][1].get("currency"), objects["estimate"][1].get("currency")
    if ours == theirs or not isinstance(ours, str) or not isinstance(theirs, str):
        return []
    return [finding("currency-mismatch", facts.at("invoice", "/currency"),
                    f"The invoice is in {show(ours)}, but the estimate is in {show(theirs)}.",
                    theirs, ours)]


@invariant("location-mismatch", objects=("invoice", "estimate"),
           reads=(("invoice", "/altId"), ("estimate", "/altId")))
def _same_location(facts: Facts) -> list[Finding]:
    objects = facts.objects
    ours, theirs = objects["invoice"][1].get("altId"), objects["estimate"][1].get("altId")
    if ours == theirs or not isinstance(ours, str) or not isinstance(theirs, str):
        return []
    return [finding("location-mismatch", facts.at("invoice", "/altId"),
                    f"The invoice is in location {show(ours)}, but its estimate is in "
                    f"{show(theirs)}.", theirs, ours)]


# --- exchange invariants: the body and what was sent -------------------------------------------

def _echoed(field: str, rule: str) -> Check:
    def check(facts: Facts) -> Iterator[Finding]:
        invoice, sent = facts.value("invoice"), facts.request or {}
        if field in sent and field in invoice and invoice[field] != sent[field]:
            yield finding(rule, facts.at("invoice", f"/{field}"),
                          f"The invoice's {field} is {show(invoice[field])}, but the request sent "
                          f"{show(sent[field])}.", sent[field], invoice[field])
    return check


invariant("alt-id-mismatch", objects=("invoice",), reads=(("invoice", "/altId"),),
          exchange=True)(_echoed("altId", "alt-id-mismatch"))
invariant("alt-type-mismatch", objects=("invoice",), reads=(("invoice", "/altType"),),
          exchange=True)(_echoed("altType", "alt-type-mismatch"))


@invariant("status-not-draft", objects=("invoice",), reads=(("invoice", "/status"),),
           exchange=True, creates="invoice")
def _new_invoice_is_draft(facts: Facts) -> Iterator[Finding]:
    invoice = facts.value("invoice")
    if facts.creates == "invoice" and "status" in invoice and invoice["status"] != "draft":
        yield finding("status-not-draft", facts.at("invoice", "/status"),
                      f"A new invoice has status {show(invoice['status'])}, not \"draft\".",
                      "draft", invoice["status"])


def _requested(kind: str) -> Check:
    """The object of `kind` returned is the one the path names (its `<kind>Id` parameter)."""
    def check(facts: Facts) -> Iterator[Finding]:
        wanted = (facts.path or {}).get(f"{kind}Id")
        found = facts.value(kind)
        if wanted is not None and "_id" in found and found["_id"] != wanted:
            yield finding(f"{kind}-mismatch", facts.at(kind, "/_id"),
                          f"The {kind} returned is {show(found['_id'])}, not the requested "
                          f"{show(wanted)}.", wanted, found["_id"])
    return check


invariant("estimate-mismatch", objects=("estimate",), reads=(("estimate", "/_id"),),
          exchange=True, path="estimateId")(_requested("estimate"))
invariant("invoice-mismatch", objects=("invoice",), reads=(("invoice", "/_id"),),
          exchange=True, path="invoiceId")(_requested("invoice"))


@invariant("discount-mismatch", objects=("invoice", "estimate"),
           reads=(("invoice", "/discount"), ("estimate", "/discount")), exchange=True)
def _discount(facts: Facts) -> Iterator[Finding]:
    ours, theirs = facts.value("invoice").get("discount"), facts.value("estimate").get("discount")
    if _map(theirs) and ours != theirs:
        yield finding("discount-mismatch", facts.at("invoice", "/discount"),
                      f"The invoice's discount is {show(ours)}, but its estimate's is "
                      f"{show(theirs)}.", theirs, ours)


@invariant("estimate-not-invoiced", objects=("estimate",),
           reads=(("estimate", "/estimateStatus"),), exchange=True, creates="invoice")
def _marked_invoiced(facts: Facts) -> Iterator[Finding]:
    estimate = facts.value("estimate")
    status = estimate.get("estimateStatus")
    # An answer that does not show the status says nothing either way: the run reads the
    # estimate back instead.
    if ((facts.request or {}).get("markAsInvoiced") is True and "estimateStatus" in estimate
            and status != "invoiced"):
        yield finding("estimate-not-invoiced", facts.at("estimate", "/estimateStatus"),
                      f"The request marked the estimate invoiced, but its status is "
                      f"{show(status)}.", "invoiced", status)


def _item_key(item: Any) -> tuple[Any, ...]:
    if not _map(item):
        return (item,)
    return (item.get("name"), item.get("qty"), item.get("amount"))


@invariant("items-mismatch", objects=("invoice", "estimate"),
           reads=tuple((kind, f"/{items}/*/{name}")
                       for kind, items in (("invoice", "invoiceItems"), ("estimate", "items"))
                       for name in ("name", "qty", "amount")),
           exchange=True)
def _items(facts: Facts) -> Iterator[Finding]:
    ours = facts.value("invoice").get("invoiceItems")
    theirs = facts.value("estimate").get("items")
    if not isinstance(ours, list) or not isinstance(theirs, list):
        return
    want, got = [_item_key(i) for i in theirs], [_item_key(i) for i in ours]
    if want != got:
        yield finding("items-mismatch", facts.at("invoice", "/invoiceItems"),
                      f"The invoice has {len(got)} items that differ from the estimate's "
                      f"{len(want)} (name, qty, amount).",
                      [list(k) for k in want], [list(k) for k in got])


# --- applying them -------------------------------------------------------------------------------

def locate(body: Any, objects: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """Each object of `objects` (kind -> pointer) found in `body` as a JSON object; "*" in a
    pointer (every item of an array) is not followed: an invariant needs one object of a kind."""
    found: dict[str, tuple[str, Any]] = {}
    for kind, where in objects.items():
        value: Any = body
        keys = _keys(where)
        if keys is None:
            continue
        for key in keys:
            if type(value) is not dict and not isinstance(value, Mapping):
                value = None
                break
            value = value.get(key)
        if type(value) is dict or isinstance(value, Mapping):
            found[kind] = (where, value)
    return found


@cache
def _keys(where: str) -> tuple[str, ...] | None:
    """The keys of pointer `where`, unescaped; None when it goes through every item ("*")."""
    parts = [part.replace("~1", "/").replace("~0", "~") for part in where.split("/")[1:]]
    return None if "*" in where.split("/") else tuple(parts)


def check_all(facts: Facts, *, exchange: bool) -> list[Finding]:
    """The findings of every invariant whose objects the body holds (the exchange ones too when
    `exchange`: what was sent is known), one per pointer: a value that breaks two invariants is
    one change, named by the more specific (an exchange invariant before a payload one)."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for rule in _applying(tuple(facts.objects), exchange, len(REGISTRY)):
        for found in rule.check(facts):  # an empty list when the rule holds: nothing to make
            if found.pointer not in seen:
                seen.add(found.pointer)
                findings.append(found)
    return findings


def payload_checks(objects: Mapping[str, str]) -> Callable[[Any], list[Finding]]:
    """The payload invariants of bodies holding `objects` (kind -> pointer), made ready once for
    many bodies (`check` reads a capture line by line): for each body, what
    `check_all(Facts(locate(body, objects)), exchange=False)` gives, by the same steps."""
    places = [(kind, where, keys) for kind, where in objects.items()
              if (keys := _keys(where)) is not None]
    registered = len(REGISTRY)
    every = _applying(tuple(kind for kind, _, _ in places), False, registered)

    def findings(body: Any) -> list[Finding]:
        found: dict[str, tuple[str, Any]] = {}
        for kind, where, keys in places:
            value = body
            for key in keys:
                if type(value) is not dict and not isinstance(value, Mapping):
                    value = None
                    break
                value = value.get(key)
            if type(value) is dict or isinstance(value, Mapping):
                found[kind] = (where, value)
        if not found:
            return []
        facts = Facts(found)
        rules = every if len(found) == len(places) else _applying(tuple(found), False,
                                                                  registered)
        result: list[Finding] = []
        seen: set[str] = set()
        for rule in rules:
            for one in rule.check(facts):
                if one.pointer not in seen:
                    seen.add(one.pointer)
                    result.append(one)
        return result

    return findings


@cache
def _applying(kinds: tuple[str, ...], exchange: bool, registered: int) -> tuple[Invariant, ...]:
    """The invariants that apply to a body holding `kinds` (of the first `registered`: one
    registered later is a new key), the exchange ones first: a value that breaks two is one
    change, named by the more specific. Within each group, the order they are registered in."""
    return tuple(sorted((rule for rule in REGISTRY[:registered]
                         if (not rule.exchange or exchange)
                         and all(kind in kinds for kind in rule.objects)),
                        key=lambda rule: not rule.exchange))


def reads_of(operation: Operation) -> dict[str, tuple[str, ...]]:
    """Every invariant that can apply to `operation`'s success, with the body pointers of the
    fields it reads (``*`` for any array index)."""
    objects = operation.success.objects
    return {rule.rule: tuple(objects[kind] + inner for kind, inner in rule.reads)
            for rule in REGISTRY if rule.applies(operation)}


def body_reads(objects: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """The body pointers every invariant reads in a body holding `objects` (kind -> pointer)."""
    return {rule.rule: tuple(objects[kind] + inner for kind, inner in rule.reads)
            for rule in REGISTRY if all(kind in objects for kind in rule.objects)}
