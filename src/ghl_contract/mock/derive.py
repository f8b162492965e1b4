"""How the mock turns an estimate into a new invoice: what carries over and what is computed."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from ghl_contract.money import invoice_total

# Item fields an invoice line takes from its estimate line (the documented item fields).
ITEM_FIELDS = (
    "name", "description", "productId", "priceId", "currency", "amount", "qty", "taxes",
    "taxInclusive", "type", "automaticTaxCategoryId", "isSetupFeeItem",
)

# Estimate fields the invoice is made from.
TAKEN = (
    "items", "discount", "liveMode", "name", "businessDetails", "currency", "contactDetails",
    "automaticTaxesEnabled", "automaticTaxesCalculated",
)


def new_id() -> str:
    """A fresh id shaped like HighLevel's (24 hex digits, as MongoDB ObjectIds are)."""
    return secrets.token_hex(12)


def timestamp(now: datetime) -> str:
    """`now` as the API writes date-times: UTC, milliseconds, `Z`."""
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def derive_invoice(estimate: Mapping[str, Any], request: Mapping[str, Any], number: int,
                   now: datetime) -> dict[str, Any]:
    """The draft invoice that converting `estimate` as `request` asks creates, numbered `number`."""
    # One copy of what the invoice takes from the estimate (orjson: ten times copy.deepcopy's
    # speed), so that the two never share a mutable part.
    taken = orjson.loads(orjson.dumps({key: estimate[key] for key in TAKEN}))
    items = [{"_id": new_id(), **{key: item[key] for key in ITEM_FIELDS if key in item}}
             for item in taken["items"]]
    total = json_number(invoice_total(items, taken["discount"]))
    stamp = timestamp(now)
    today = now.date().isoformat()
    return {
        "_id": new_id(),
        "status": "draft",
        "liveMode": taken["liveMode"],
        "amountPaid": 0,
        "altId": request["altId"],
        "altType": request["altType"],
        "name": taken["name"],
        "businessDetails": taken["businessDetails"],
        "invoiceNumber": str(number),
        "currency": taken["currency"],
        "contactDetails": taken["contactDetails"],
        "issueDate": today,
        "dueDate": today,
        "invoiceItems": items,
        "discount": taken["discount"],
        "total": total,
        "title": "INVOICE",
        "amountDue": total,
        "createdAt": stamp,
        "updatedAt": stamp,
        "automaticTaxesEnabled": taken["automaticTaxesEnabled"],
        "automaticTaxesCalculated": taken["automaticTaxesCalculated"],
        "paymentSchedule": {},
    }
