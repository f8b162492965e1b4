"""What the mock computes when it creates: an estimate from its request, an invoice from an
estimate. What carries over, what is computed, and in which shape each profile answers it."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ghl_contract.money import invoice_total

# Item fields an invoice line takes from its estimate line (the documented item fields).
ITEM_FIELDS = (
    "name", "description", "productId", "priceId", "currency", "amount", "qty", "taxes",
    "taxInclusive", "type", "automaticTaxCategoryId", "isSetupFeeItem",
)

# Estimate fields the invoice is made from; the last two only when the estimate has them.
TAKEN = ("items", "discount", "liveMode", "name", "businessDetails", "currency", "contactDetails")
TAKEN_IF_PRESENT = ("automaticTaxesEnabled", "automaticTaxesCalculated")

# Request fields a created estimate carries as they were sent, when they were.
CARRIED = ("title", "termsNotes", "estimateNumberPrefix")
VALIDITY = timedelta(days=30)  # an estimate sent without expiryDate expires this much later


def new_id() -> str:
    """A fresh id shaped like HighLevel's (24 hex digits, as MongoDB ObjectIds are)."""
    return secrets.token_hex(12)


def timestamp(now: datetime) -> str:
    """`now` as the API writes date-times: UTC, milliseconds, `Z`."""
    # isoformat, not strftime: a tenth of its cost, and a conversion writes two of these
    return now.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def local_timestamp(now: datetime, zone: ZoneInfo) -> str:
    """`now` as the live API writes action-history times: the location's local time, no zone."""
    return now.astimezone(zone).replace(tzinfo=None).isoformat(timespec="milliseconds")


def json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _copy(value: Any) -> Any:
    # orjson round trip: ten times copy.deepcopy's speed, and nothing shared with the source
    return orjson.loads(orjson.dumps(value))


def derive_invoice(estimate: Mapping[str, Any], request: Mapping[str, Any], number: int,
                   now: datetime) -> dict[str, Any]:
    """The draft invoice that converting `estimate` as `request` asks creates, numbered `number`."""
    taken = _copy({key: estimate[key] for key in (*TAKEN, *TAKEN_IF_PRESENT) if key in estimate})
    items = [{"_id": new_id(), **{key: item[key] for key in ITEM_FIELDS if key in item}}
             for item in taken["items"]]
    total = json_number(invoice_total(items, taken["discount"]))
    stamp = timestamp(now)
    today = now.astimezone(UTC).date().isoformat()
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
        **{key: taken[key] for key in TAKEN_IF_PRESENT if key in taken},
        "paymentSchedule": {},
    }


@dataclass(frozen=True)
class NewEstimate:
    """What the API decides about an estimate it creates, besides what the request says."""

    estimate_id: str
    number: int  # the location's next estimate number
    company_id: str
    zone: ZoneInfo  # the location's time zone
    now: datetime


def _items(request: Mapping[str, Any], observed: bool) -> list[dict[str, Any]]:
    defaults: dict[str, Any] = {"taxes": [], "taxInclusive": False}
    if observed:
        defaults["attachments"] = []
    return [{"_id": new_id(), **defaults, **item} for item in _copy(request["items"])]


def _day(text: str | None, fallback: date) -> date:
    return date.fromisoformat(text) if text else fallback


def documented_estimate(request: Mapping[str, Any], new: NewEstimate) -> dict[str, Any]:
    """The estimate as the documentation has it: every field the contract requires; its days at
    midnight UTC as the documented example writes them; the location's next estimateNumber."""
    items = _items(request, observed=False)
    total = json_number(invoice_total(items, request["discount"]))
    stamp = timestamp(new.now)
    issued = _day(request.get("issueDate"), new.now.astimezone(UTC).date())
    expires = _day(request.get("expiryDate"), issued + VALIDITY)
    return {
        "altId": request["altId"],
        "altType": request["altType"],
        "_id": new.estimate_id,
        "liveMode": request.get("liveMode", True),
        "deleted": False,
        "name": request["name"],
        "currency": request["currency"],
        "businessDetails": _copy(request["businessDetails"]),
        "items": items,
        "discount": _copy(request["discount"]),
        "total": total,
        "createdAt": stamp,
        "updatedAt": stamp,
        "__v": 0,
        "automaticTaxesEnabled": request.get("automaticTaxesEnabled", False),
        "companyId": new.company_id,
        "contactDetails": _copy(request["contactDetails"]),
        "issueDate": f"{issued.isoformat()}T00:00:00.000Z",
        "expiryDate": f"{expires.isoformat()}T00:00:00.000Z",
        "automaticTaxesCalculated": False,
        "meta": _copy(request.get("meta", {})),
        "estimateActionHistory": [],
        "sentTo": {"email": []},
        "frequencySettings": _copy(request["frequencySettings"]),
        "lastVisitedAt": stamp,
        "totalamountInUSD": total,
        "traceId": str(uuid.uuid4()),
        **{key: request[key] for key in CARRIED if key in request},
        "estimateStatus": "draft",
        "estimateNumber": new.number,
    }


def observed_estimate(request: Mapping[str, Any], new: NewEstimate, fields: tuple[str, ...],
                      configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The estimate as the live API was seen to answer it: exactly `fields`, in order (a field
    the request did not send and nothing computes is left out); days as instants of the
    location's time zone (the issue day's start, the expiry day's last millisecond)."""
    items = _items(request, observed=True)
    total = json_number(invoice_total(items, request["discount"]))
    stamp = timestamp(new.now)
    issued, expires = date.fromisoformat(request["issueDate"]), \
        date.fromisoformat(request["expiryDate"])
    start = datetime.combine(issued, time(), new.zone)
    end = datetime.combine(expires, time(23, 59, 59, 999000), new.zone)
    known: dict[str, Any] = {
        **_copy(request),
        "_id": new.estimate_id,
        "companyId": new.company_id,
        "estimateStatus": "draft",
        "estimateNumber": new.number,
        "issueDate": timestamp(start),
        "expiryDate": timestamp(end),
        "items": items,
        "deleted": False,
        "automaticTaxesCalculated": False,
        "total": total,
        "estimateActionHistory": [],
        "liveMode": request.get("liveMode", True),
        "totalamountInUSD": total,
        "attachments": [],
        "configuration": _copy(configuration),
        "createdAt": stamp,
        "updatedAt": stamp,
        "__v": 0,
        "traceId": str(uuid.uuid4()),
    }
    return {name: known[name] for name in fields if name in known}
