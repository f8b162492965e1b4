"""What each operation of the manifest does to the mock's state: one handler per operation id.

A handler runs once the app's checks have passed (rate limit, route, token, Version, body,
parameters; see app.py): it gets the validated call and returns the success body, or raises
`Refused` (unknown id 404, another location 403, a state that forbids it 400). The success status
is the manifest's. The table is the mock's behaviour, keyed by the manifest's ids; an operation
without an entry is not served.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ghl_contract.mock.store import Access, Store
from ghl_contract.operations import Operation


@dataclass(frozen=True)
class Call:
    """A request that passed every check, as its handler sees it."""

    operation: Operation
    target: str  # the value of the path's one parameter (the id it names), "" if it has none
    sent: Mapping[str, Any]  # the JSON body, or the query for an operation that takes no body
    access: Access
    now: datetime


Handler = Callable[[Store, Call], bytes]


def create_estimate(store: Store, call: Call) -> bytes:
    return store.create_estimate(call.sent, call.access, call.now)


def convert(store: Store, call: Call) -> bytes:
    return store.convert(call.target, call.sent, call.now, call.access)


def list_estimates(store: Store, call: Call) -> bytes:
    return store.list_estimates(call.sent, call.access)


def delete_estimate(store: Store, call: Call) -> bytes:
    return store.delete_estimate(call.target, call.access, call.now)


def get_invoice(store: Store, call: Call) -> bytes:
    return store.read_invoice(call.target, call.access)


def list_invoices(store: Store, call: Call) -> bytes:
    return store.list_invoices(call.sent, call.access)


def void_invoice(store: Store, call: Call) -> bytes:
    return store.void_invoice(call.target, call.access, call.now)


def delete_invoice(store: Store, call: Call) -> bytes:
    return store.delete_invoice(call.target, call.access)


def next_invoice_number(store: Store, call: Call) -> bytes:
    # As the invoices carry it: a string, as in the documented "19".
    return orjson.dumps({"invoiceNumber": str(store.next_invoice_number(call.access))})


HANDLERS: dict[str, Handler] = {
    "create-new-estimate": create_estimate,
    "create-invoice-from-estimate": convert,
    "list-estimates": list_estimates,
    "delete-estimate": delete_estimate,
    "get-invoice": get_invoice,
    "list-invoices": list_invoices,
    "void-invoice": void_invoice,
    "delete-invoice": delete_invoice,
    "generate-invoice-number": next_invoice_number,
}
