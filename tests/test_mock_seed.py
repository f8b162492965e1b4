"""The default seed: the documented estimate and varied ones; bad seed files are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.errors import UsageError
from ghl_contract.mock import load_seed
from ghl_contract.mock.seed import DEFAULT_SEED
from ghl_contract.money import invoice_total
from ghl_contract.registry import pinned
from ghl_contract.schema_findings import schema_findings

SEED = load_seed()
ESTIMATES = [(location, estimate) for location in SEED.locations
             for estimate in location.estimates.values()]
DOCUMENTED_ID = "5f9d6d8b1b2d2c001f2d9e4b"


def test_default_locations_and_tokens() -> None:
    assert [(loc.location_id, loc.token) for loc in SEED.locations] == [
        ("6578278e879ad2646715ba9c", "mock-token-location-1"),
        ("mock-location-2", "mock-token-location-2"),
    ]
    assert len(SEED.locations[1].estimates) == 1


def test_documented_estimate_is_the_documented_content(
        documented_response: dict[str, Any]) -> None:
    seeded = SEED.locations[0].estimates[DOCUMENTED_ID]
    assert next(iter(SEED.locations[0].estimates)) == DOCUMENTED_ID
    assert seeded == {**documented_response["estimate"], "_id": DOCUMENTED_ID}


@pytest.mark.parametrize(("location", "estimate"), ESTIMATES,
                         ids=[f"{e['currency']}-{e['_id']}" for _, e in ESTIMATES])
def test_every_seeded_estimate_is_strictly_valid(location: Any, estimate: dict[str, Any]) -> None:
    validator = pinned().validator("estimate.json", strict=True)
    assert schema_findings(validator, estimate) == []
    assert estimate["altId"] == location.location_id


@pytest.mark.parametrize(("location", "estimate"),
                         [pair for pair in ESTIMATES if pair[1]["_id"] != DOCUMENTED_ID],
                         ids=[e["_id"] for _, e in ESTIMATES if e["_id"] != DOCUMENTED_ID])
def test_varied_estimate_totals_follow_the_money_rule(location: Any,
                                                      estimate: dict[str, Any]) -> None:
    # The documented estimate's total (1222.03) is the documentation's, not its items' (509.99).
    assert estimate["total"] == float(invoice_total(estimate["items"], estimate["discount"]))


def test_default_seed_is_varied() -> None:
    estimates = list(SEED.locations[0].estimates.values())
    items = [item for estimate in estimates for item in estimate["items"]]
    assert len({estimate["currency"] for estimate in estimates}) >= 5
    assert {estimate["discount"]["type"] for estimate in estimates
            if estimate["discount"].get("value")} == {"fixed", "percentage"}
    assert any(estimate["discount"].get("validOnProductIds") for estimate in estimates)
    assert {item["taxInclusive"] for item in items if item["taxes"]} == {True, False}
    assert any(len(item["taxes"]) > 1 for item in items)
    assert {item["type"] for item in items} == {"one_time", "recurring"}
    assert any(not float(item["qty"]).is_integer() for item in items)
    assert max(len(estimate["items"]) for estimate in estimates) >= 3
    assert min(len(estimate["items"]) for estimate in estimates) == 0


def _default() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULT_SEED.read_text("utf-8"))
    return data


def _break(change: str) -> Any:
    data = _default()
    home, other = data["locations"]
    if change == "no-locations":
        data["locations"] = []
    elif change == "location-without-token":
        del home["token"]
    elif change == "token-with-space":
        home["token"] = "two words"
    elif change == "estimate-breaks-contract":
        del home["estimates"][1]["currency"]
    elif change == "estimate-under-wrong-location":
        other["estimates"].append(home["estimates"][2])
    elif change == "estimate-twice":
        other["estimates"].append({**home["estimates"][2], "altId": other["location_id"]})
    elif change == "location-twice":
        other["location_id"] = home["location_id"]
        for estimate in other["estimates"]:
            estimate["altId"] = home["location_id"]
    elif change == "token-twice":
        other["token"] = home["token"]
    elif change == "not-an-object":
        data = [home]
    elif change == "qty-beyond-64-bit":
        home["estimates"][0]["items"][0]["qty"] = 10**30
    elif change == "total-beyond-64-bit":
        home["estimates"][1]["items"][0].update(amount=1e308, qty=1e308)
    elif change == "unknown-time-zone":
        home["time_zone"] = "Mars/Olympus"
    return data


BROKEN = {
    "no-locations": "/locations: [] has less than 1 item",
    "location-without-token": "Required field /locations/0/token is missing",
    "token-with-space": "/locations/0/token is \"two words\", which does not match",
    "estimate-breaks-contract": "Required field /locations/0/estimates/1/currency is missing",
    "estimate-under-wrong-location": "under location 'mock-location-2'",
    "estimate-twice": "lists estimate '6578278e879ad2646715e002' twice",
    "location-twice": "lists location '6578278e879ad2646715ba9c' twice",
    "token-twice": "gives two locations the same token",
    "not-an-object": "The payload is array, but the contract requires object",
    "qty-beyond-64-bit": f"has estimate '{DOCUMENTED_ID}', which the mock cannot convert to an "
                         "invoice (Integer exceeds 64-bit range)",
    "total-beyond-64-bit": "has estimate '6578278e879ad2646715e001', which the mock cannot "
                           "convert to an invoice (Integer exceeds 64-bit range)",
    "unknown-time-zone": "gives location '6578278e879ad2646715ba9c' the time zone "
                         "'Mars/Olympus', which is not an IANA time zone",
}


@pytest.mark.parametrize(("change", "says"), BROKEN.items(), ids=list(BROKEN))
def test_broken_seed_is_one_sentence_naming_the_file(change: str, says: str,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(_break(change)), "utf-8")
    with pytest.raises(UsageError) as raised:
        load_seed(path)
    message = str(raised.value)
    assert message.startswith(f"The seed file {path} ")
    assert says in message
    assert message.endswith(".")
    assert "\n" not in message
    assert "mock-token-location" not in message  # tokens stay out of messages


@pytest.mark.parametrize("content", [None, "", "{not json"], ids=["missing", "empty", "not-json"])
def test_unreadable_seed_names_the_file(content: str | None, tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    if content is not None:
        path.write_text(content, "utf-8")
    with pytest.raises(UsageError, match=r"^The seed file .*seed\.json cannot be read: "):
        load_seed(path)


def test_locations_have_a_company_and_a_time_zone(tmp_path: Path) -> None:
    home, other = SEED.locations
    assert (home.company_id, str(home.time_zone)) == ("COMP12345", "America/Denver")
    assert (other.company_id, str(other.time_zone)) == ("COMP67890", "UTC")
    data = _default()
    data["locations"][1].update(company_id="agency-9", time_zone="Europe/Paris")
    data["locations"][1]["estimates"] = []
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), "utf-8")
    named = load_seed(path).locations[1]
    assert (named.company_id, str(named.time_zone)) == ("agency-9", "Europe/Paris")


def test_a_valid_custom_seed_loads(tmp_path: Path) -> None:
    data = _default()
    data["locations"] = data["locations"][1:]
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), "utf-8")
    seed = load_seed(path)
    assert [location.location_id for location in seed.locations] == ["mock-location-2"]
    assert seed.source == path
    assert seed.owner("6578278e879ad2646715f001") is seed.locations[0]
    assert seed.owner(DOCUMENTED_ID) is None
    assert seed.location("mock-location-2") is seed.locations[0]
    with pytest.raises(KeyError):
        seed.location("6578278e879ad2646715ba9c")
