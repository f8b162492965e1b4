"""The mock's starting state: locations, the token each accepts and the estimates each owns."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema_rs
import orjson

from ghl_contract.errors import UsageError
from ghl_contract.mock.derive import derive_invoice
from ghl_contract.registry import pinned
from ghl_contract.schema_findings import schema_findings

_HERE = Path(__file__).resolve().parent
DEFAULT_SEED = _HERE / "seed.json"
SEED_SCHEMA = _HERE / "seed.schema.json"

Estimate = dict[str, Any]
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Location:
    """A sub-account: its id (the request's altId), the one token it accepts, its estimates, the
    company it belongs to and its time zone (what estimates it creates carry)."""

    location_id: str
    token: str
    estimates: Mapping[str, Estimate]  # keyed by the estimate's _id, in seed order
    company_id: str = "mock-company"
    time_zone: ZoneInfo = UTC_ZONE


@dataclass(frozen=True)
class Seed:
    """Every location the mock knows, in seed order; the first is the documented one."""

    locations: tuple[Location, ...]
    source: Path | None = None

    def location(self, location_id: str) -> Location:
        for location in self.locations:
            if location.location_id == location_id:
                return location
        raise KeyError(location_id)

    def owner(self, estimate_id: str) -> Location | None:
        """The location that owns `estimate_id`, or None."""
        for location in self.locations:
            if estimate_id in location.estimates:
                return location
        return None


@cache
def _validator() -> jsonschema_rs.Validator:
    # The seed's own shape is a data file beside this module; its estimates are the contract's.
    contract = pinned()
    resources = [(contract.uri(name), doc) for name, doc in contract.documents.items()]
    return jsonschema_rs.validator_for(
        json.loads(SEED_SCHEMA.read_text(encoding="utf-8")),
        registry=jsonschema_rs.Registry(resources),
        validate_formats=True,
    )


def load_seed(path: Path | None = None) -> Seed:
    """Read a seed file (None: the packaged default); a bad file raises one UsageError sentence."""
    source = DEFAULT_SEED if path is None else Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"The seed file {source} cannot be read: {exc}.") from None
    problems = schema_findings(_validator(), data)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise UsageError(f"The seed file {source} is not a valid mock seed: "
                         f"{problems[0].message.rstrip('.')}{more}.")
    locations: list[Location] = []
    tokens: set[str] = set()
    owners: dict[str, str] = {}
    for entry in data["locations"]:
        location_id, token = entry["location_id"], entry["token"]
        if any(known.location_id == location_id for known in locations):
            raise UsageError(f"The seed file {source} lists location {location_id!r} twice.")
        if token in tokens:
            # Not echoed: even a mock token is kept out of messages.
            raise UsageError(f"The seed file {source} gives two locations the same token.")
        tokens.add(token)
        estimates: dict[str, Estimate] = {}
        for estimate in entry["estimates"]:
            estimate_id = estimate["_id"]
            if estimate["altId"] != location_id:
                raise UsageError(
                    f"The seed file {source} puts estimate {estimate_id!r} (altId "
                    f"{estimate['altId']!r}) under location {location_id!r}."
                )
            if estimate_id in owners:
                raise UsageError(
                    f"The seed file {source} lists estimate {estimate_id!r} twice "
                    f"(in {owners[estimate_id]!r} and {location_id!r})."
                )
            owners[estimate_id] = location_id
            _check_convertible(source, estimate)
            estimates[estimate_id] = estimate
        # The company of its estimates, unless the seed names one.
        company = entry.get("company_id") or next(
            (estimate["companyId"] for estimate in estimates.values()), location_id)
        locations.append(Location(location_id, token, estimates, company,
                                  _zone(source, location_id, entry.get("time_zone", "UTC"))))
    return Seed(tuple(locations), source)


def _zone(source: Path, location_id: str, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"The seed file {source} gives location {location_id!r} the time zone "
                         f"{name!r}, which is not an IANA time zone (America/Denver, UTC...).") \
            from None


def _check_convertible(source: Path, estimate: Estimate) -> None:
    """Convert `estimate` once, as the mock will, and serialise the 200 body it would answer.

    The schema lets numbers be any size, but the mock's store and answers go through orjson (64-bit
    integers, doubles) and its totals through Decimal: a seed that fails here would crash the mock
    at start or answer 500 to every conversion, so it is refused at load instead.
    """
    request = {"altId": estimate["altId"], "altType": estimate["altType"]}
    try:
        invoice = derive_invoice(estimate, request, 1, datetime.now(UTC))
        orjson.dumps({"estimate": estimate, "invoice": invoice})
    except (TypeError, ValueError) as exc:  # orjson.JSONEncodeError is a TypeError
        reason = str(exc)
    except ArithmeticError:  # decimal's signals: a total beyond what can be computed
        reason = "its invoice total cannot be computed"
    else:
        return
    raise UsageError(f"The seed file {source} has estimate {estimate['_id']!r}, which the mock "
                     f"cannot convert to an invoice ({reason.rstrip('.')}); keep its numbers "
                     "within 64-bit integers and doubles.")
