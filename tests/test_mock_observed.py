"""The observed profile answers as the live API was seen to (the project's LIVE-FACTS notes): the
created estimate's exact fields, class-validator's 422s, the database's 500, action history,
delete-estimate's body, lists without traceId, no second invoicing, no void of a draft."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghl_contract.judge import check_body
from ghl_contract.mock import MockApp, Running, load_seed, serve
from ghl_contract.mock import behaviour as behaviour_file
from ghl_contract.mock.testing import Caller, estimate_request
from ghl_contract.registry import pinned

SEED = load_seed()
HOME, OTHER = SEED.locations
MANIFEST = pinned().manifest
CASES = json.loads((Path(__file__).parent / "mock_cases" / "observed-estimate-requests.json")
                   .read_text("utf-8"))["cases"]
# The 201 body's top-level keys, exactly, as the live API sent them.
OBSERVED_KEYS = [
    "altType", "altId", "companyId", "name", "businessDetails", "estimateStatus",
    "estimateNumber", "currency", "contactDetails", "issueDate", "expiryDate", "termsNotes",
    "discount", "items", "deleted", "automaticTaxesCalculated", "title", "total",
    "estimateActionHistory", "liveMode", "frequencySettings", "totalamountInUSD", "attachments",
    "configuration", "_id", "createdAt", "updatedAt", "__v", "traceId"]


@pytest.fixture(scope="module")
def mock() -> Iterator[Running[MockApp]]:
    with serve(MockApp(SEED, profile="observed", rate_limit=(10_000, 1.0))) as running:
        yield running


@pytest.fixture(scope="module")
def home(mock: Running[MockApp]) -> Iterator[Caller]:
    with httpx.Client(base_url=mock.url, timeout=5.0) as http:
        yield Caller(http, HOME.token, HOME.location_id)


def created(caller: Caller, **changes: Any) -> dict[str, Any]:
    response = caller.create_estimate(**changes)
    assert response.status_code == 201, response.text
    estimate: dict[str, Any] = response.json()
    return estimate


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_create_estimate_request(case: dict[str, Any], home: Caller,
                                 mock: Running[MockApp]) -> None:
    before = len(mock.app.store.estimates())
    response = home.create_estimate(**case["changes"])
    assert response.status_code == case["status"], response.text
    if case["status"] == 201:
        assert len(mock.app.store.estimates()) == before + 1
        return
    assert len(mock.app.store.estimates()) == before  # nothing created
    body = response.json()
    if case["status"] == 500:
        assert body == {"statusCode": 500, "message": case["message"]}
    else:
        assert body == {"statusCode": 422, "message": case["messages"],
                        "error": "Unprocessable Entity"}
        assert check_body(response.content, operation=MANIFEST.get("create-new-estimate"),
                          status=422, content_type=response.headers["content-type"]) == []


def test_a_created_estimate_has_exactly_the_observed_fields(home: Caller) -> None:
    sent = estimate_request(HOME.location_id)
    estimate = created(home)
    assert list(estimate) == OBSERVED_KEYS
    assert created(home, termsNotes=None).keys() == set(OBSERVED_KEYS) - {"termsNotes"}
    assert (estimate["estimateStatus"], estimate["configuration"], estimate["attachments"],
            estimate["estimateActionHistory"], estimate["liveMode"]) == (
        "draft", {"precision": 4}, [], [], True)
    assert estimate["contactDetails"] == sent["contactDetails"]  # only what was sent
    assert estimate["total"] == 376.29  # 333 with a 13% tax, as live
    [item] = estimate["items"]
    assert set(item) == {*sent["items"][0], "_id", "taxInclusive", "attachments"}
    assert (item["taxInclusive"], item["attachments"]) == (False, [])
    assert "productId" not in item


def test_a_created_estimates_days_are_instants_of_its_location(home: Caller) -> None:
    zone = HOME.time_zone
    estimate = created(home, issueDate="2026-08-26", expiryDate="2026-01-15")
    start = datetime.combine(date(2026, 8, 26), time(), zone).astimezone(UTC)
    end = datetime.combine(date(2026, 1, 15), time(23, 59, 59, 999000), zone).astimezone(UTC)
    # America/Denver: UTC-6 in August (as seen live), UTC-7 in January.
    assert (estimate["issueDate"], estimate["expiryDate"]) == (
        "2026-08-26T06:00:00.000Z", "2026-01-16T06:59:59.999Z")
    assert estimate["issueDate"] == start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert estimate["expiryDate"] == end.strftime("%Y-%m-%dT%H:%M:%S.999Z")


def test_invoicing_adds_an_observed_history_entry_then_refuses_again(home: Caller) -> None:
    estimate = created(home)
    before = datetime.now(HOME.time_zone).replace(tzinfo=None, microsecond=0)
    first = home.convert(estimate["_id"])
    after = datetime.now(HOME.time_zone).replace(tzinfo=None)
    assert first.status_code == 200, first.text
    shown = first.json()["estimate"]
    assert shown["estimateStatus"] == "invoiced"
    [entry] = shown["estimateActionHistory"]
    assert set(entry) == {"estimateStatus", "updatedAt"}
    assert entry["estimateStatus"] == "invoiced"
    # The location's local time, with no time-zone suffix.
    assert before <= datetime.fromisoformat(entry["updatedAt"]) <= after
    assert not entry["updatedAt"].endswith("Z")
    again = home.convert(estimate["_id"])
    assert (again.status_code, again.json()) == (400, {"statusCode": 400,
                                                       "message": "Estimate is already invoiced."})
    unmarked = home.convert(estimate["_id"], mark=False)
    assert unmarked.status_code == 200  # an invoice without marking it again is still made
    assert unmarked.json()["estimate"]["estimateActionHistory"] == [entry]


def test_delete_estimate_reads_alt_id_from_the_body_only(home: Caller) -> None:
    estimate = created(home)
    queried = home.send("delete-estimate", estimate["_id"], query=home.alt)
    assert (queried.status_code, queried.json()) == (422, {
        "statusCode": 422, "message": ["altId must be a string", "altType should not be empty"],
        "error": "Unprocessable Entity"})
    deleted = home.delete_estimate(estimate["_id"])
    assert deleted.status_code == 200
    assert deleted.json()["deleted"] is True
    assert deleted.json()["_id"] not in [e["_id"] for e in
                                         home.list_estimates().json()["estimates"]]


def test_a_list_has_no_trace_id(home: Caller) -> None:
    listed = home.list_estimates(limit=1)
    assert listed.status_code == 200
    assert list(listed.json()) == ["estimates", "total"]
    assert [(f.pointer, f.rule) for f in check_body(
        listed.content, operation=MANIFEST.get("list-estimates"), status=200,
        content_type=listed.headers["content-type"]) if f.pointer == "/traceId"] == [
        ("/traceId", "missing-required")]


def test_a_draft_invoice_is_not_voided_but_deleted(home: Caller) -> None:
    invoice = home.convert(created(home)["_id"]).json()["invoice"]
    voided = home.void_invoice(invoice["_id"])
    assert (voided.status_code, voided.json()) == (400, {
        "statusCode": 400, "message": "Can not void draft invoice. You can delete draft invoice!"})
    assert home.get_invoice(invoice["_id"]).json() == invoice
    assert home.delete_invoice(invoice["_id"]).status_code == 200


def test_an_unknown_conversion_property_is_refused(home: Caller) -> None:
    estimate_id = created(home)["_id"]
    response = home.send("create-invoice-from-estimate", estimate_id,
                         body={**home.alt, "markAsInvoiced": True, "note": "x"})
    assert (response.status_code, response.json()["message"]) == (
        422, ["property note should not exist"])


def test_an_empty_body_is_an_empty_object(home: Caller) -> None:
    response = home.send("void-invoice", "6578278e879ad2646715ffff", content=b"")
    assert (response.status_code, response.json()["message"]) == (
        422, ["altId must be a string", "altType should not be empty"])


@pytest.mark.parametrize(("change", "says"), [
    ({"requests": {"no-such-operation": {"patch": []}}},
     "names operations the manifest does not have: no-such-operation"),
    ({"created": {"receipt": {"fields": ["_id"]}}}, "shapes objects no operation creates: receipt"),
    ({"answers": [{"operation": "list-estimates", "status": 200,
                   "patch": [{"op": "transform", "path": "/total", "transform": "plus"}]}]},
     "the transform 'plus' is not one of"),
    ({"answers": [{"operation": "list-estimates", "status": 200, "patch": []}]},
     "is not valid at /answers/0/patch"),
], ids=["unknown-operation", "uncreated-kind", "transform", "empty-patch"])
def test_a_broken_observed_file_fails_naming_it(change: dict[str, Any], says: str,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = {**json.loads(behaviour_file.OBSERVED.read_text("utf-8")), **change}
    path = tmp_path / "observed.json"
    path.write_text(json.dumps(data), "utf-8")
    monkeypatch.setattr(behaviour_file, "OBSERVED", path)
    with pytest.raises(RuntimeError, match=f"^{re.escape(str(path))} .*{re.escape(says)}"):
        behaviour_file._observed()


def test_the_documented_profile_is_the_default() -> None:
    assert MockApp(SEED).behaviour.name == "documented"
    assert MockApp(SEED, profile="observed").store.behaviour.name == "observed"
