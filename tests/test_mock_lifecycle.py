"""The estimate-to-invoice lifecycle over HTTP: create, convert, list, read back, void, delete.

Every success body is judged as a contract run judges it (the strict schema of its operation and
the invariants of what it holds, with what was sent): a clean answer has no finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from ghl_contract.findings import Finding
from ghl_contract.judge import check_body
from ghl_contract.mock import MockApp, Running, load_seed, serve
from ghl_contract.mock.handlers import HANDLERS
from ghl_contract.mock.testing import Caller, estimate_request
from ghl_contract.money import invoice_total
from ghl_contract.registry import pinned

SEED = load_seed()
HOME, OTHER = SEED.locations
MANIFEST = pinned().manifest
HEX_ID = re.compile(r"^[0-9a-f]{24}$")


def judged(response: httpx.Response, operation_id: str, request: Any = None,
           path: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(pointer, rule) of every finding a run would report for this answer."""
    found: list[Finding] = check_body(
        response.content, operation=MANIFEST.get(operation_id), status=response.status_code,
        content_type=response.headers["content-type"], request=request, path=path)
    return [(f.pointer, f.rule) for f in found]


@pytest.fixture
def mock() -> Iterator[Running[MockApp]]:
    with serve(MockApp(SEED, rate_limit=(10_000, 1.0))) as running:
        yield running


@pytest.fixture
def home(mock: Running[MockApp]) -> Iterator[Caller]:
    with httpx.Client(base_url=mock.url, timeout=5.0) as http:
        yield Caller(http, HOME.token, HOME.location_id)


@pytest.fixture
def other(mock: Running[MockApp]) -> Iterator[Caller]:
    with httpx.Client(base_url=mock.url, timeout=5.0) as http:
        yield Caller(http, OTHER.token, OTHER.location_id)


def created(caller: Caller, **changes: Any) -> dict[str, Any]:
    response = caller.create_estimate(**changes)
    assert response.status_code == 201, response.text
    estimate: dict[str, Any] = response.json()
    return estimate


def converted(caller: Caller, estimate_id: str, *, mark: bool = True) -> dict[str, Any]:
    response = caller.convert(estimate_id, mark=mark)
    assert response.status_code == 200, response.text
    invoice: dict[str, Any] = response.json()["invoice"]
    return invoice


def test_every_operation_of_the_manifest_is_served(mock: Running[MockApp]) -> None:
    assert sorted(HANDLERS) == sorted(MANIFEST.operations)
    assert [op.id for op in mock.app.served] == [op.id for op in MANIFEST]


def test_a_created_estimate_is_complete_and_numbered_per_location(home: Caller,
                                                                   other: Caller) -> None:
    sent = estimate_request(HOME.location_id)
    responses = [home.create_estimate(), home.create_estimate(),
                 other.create_estimate()]
    assert [r.status_code for r in responses] == [201] * 3
    assert [judged(r, "create-new-estimate", sent) for r in responses[:2]] == [[], []]
    first, second, elsewhere = (r.json() for r in responses)
    assert [first["estimateNumber"], second["estimateNumber"], elsewhere["estimateNumber"]] == \
        [1, 2, 1]
    assert HEX_ID.match(first["_id"])
    assert first["_id"] != second["_id"]
    assert (first["estimateStatus"], first["deleted"], first["liveMode"]) == ("draft", False, True)
    # 333 with a 13% tax: 376.29, as the live API computed it.
    assert first["total"] == float(invoice_total(sent["items"], sent["discount"])) == 376.29
    assert (first["issueDate"], first["expiryDate"]) == ("2026-08-26T00:00:00.000Z",
                                                         "2026-09-25T00:00:00.000Z")
    assert first["contactDetails"] == sent["contactDetails"]
    assert [{k: v for k, v in item.items() if k != "_id"} for item in first["items"]] == \
        [{"taxInclusive": False, **item} for item in sent["items"]]
    assert (first["altId"], elsewhere["altId"]) == (HOME.location_id, OTHER.location_id)
    assert first["companyId"] == next(iter(HOME.estimates.values()))["companyId"]


def test_a_created_estimate_converts_and_its_invoice_reads_back(home: Caller) -> None:
    estimate = created(home, discount={"type": "percentage", "value": 10})
    conversion = home.convert(estimate["_id"])
    assert judged(conversion, "create-invoice-from-estimate",
                  {**home.alt, "markAsInvoiced": True}, {"estimateId": estimate["_id"]}) == []
    invoice = conversion.json()["invoice"]
    assert conversion.json()["estimate"]["estimateStatus"] == "invoiced"
    assert invoice["discount"] == {"type": "percentage", "value": 10}
    read = home.get_invoice(invoice["_id"])
    assert read.status_code == 200
    assert judged(read, "get-invoice", home.alt, {"invoiceId": invoice["_id"]}) == []
    assert read.json() == invoice  # the same body the conversion returned


def test_a_voided_invoice_reads_back_void_and_cannot_be_deleted(home: Caller) -> None:
    invoice = converted(home, created(home)["_id"])
    voided = home.void_invoice(invoice["_id"])
    assert voided.status_code == 200
    assert judged(voided, "void-invoice", home.alt, {"invoiceId": invoice["_id"]}) == []
    assert voided.json() == {**invoice, "status": "void", "updatedAt": voided.json()["updatedAt"]}
    assert home.get_invoice(invoice["_id"]).json()["status"] == "void"
    assert home.void_invoice(invoice["_id"]).json() == voided.json()  # voiding again: as it is
    refused = home.delete_invoice(invoice["_id"])
    assert (refused.status_code, refused.json()) == (400, {
        "statusCode": 400, "message": "Invoice status need to be draft to delete an invoice"})
    assert judged(refused, "delete-invoice") == []


def test_a_deleted_draft_invoice_is_gone(home: Caller, mock: Running[MockApp]) -> None:
    invoice = converted(home, created(home)["_id"])
    deleted = home.delete_invoice(invoice["_id"])
    assert deleted.status_code == 200
    assert judged(deleted, "delete-invoice", home.alt, {"invoiceId": invoice["_id"]}) == []
    assert deleted.json() == invoice
    after = [home.get_invoice(invoice["_id"]), home.void_invoice(invoice["_id"]),
             home.delete_invoice(invoice["_id"])]
    assert [r.status_code for r in after] == [404] * 3
    assert after[0].json()["message"] == f"No invoice found with id {invoice['_id']}."
    assert mock.app.store.invoices() == []
    assert home.http.get("/__mock__/invoices").json() == []


def test_a_deleted_estimate_is_gone(home: Caller, mock: Running[MockApp]) -> None:
    estimate = created(home)
    deleted = home.delete_estimate(estimate["_id"])
    assert deleted.status_code == 200
    assert judged(deleted, "delete-estimate", home.alt, {"estimateId": estimate["_id"]}) == []
    assert deleted.json()["deleted"] is True
    assert {k: v for k, v in deleted.json().items() if k not in ("deleted", "updatedAt")} == \
        {k: v for k, v in estimate.items() if k not in ("deleted", "updatedAt")}
    after = [home.convert(estimate["_id"]), home.delete_estimate(estimate["_id"])]
    assert [r.status_code for r in after] == [404, 404]
    listed = home.list_estimates().json()["estimates"]
    assert estimate["_id"] not in [e["_id"] for e in listed]
    stored = [e["_id"] for e in home.http.get("/__mock__/estimates").json()]
    assert estimate["_id"] not in stored
    assert stored == [e["_id"] for e in mock.app.store.estimates()]
    assert stored[: len(HOME.estimates)] == list(HOME.estimates)


def test_the_next_invoice_number_is_not_used_up_by_asking(home: Caller) -> None:
    asked = [home.next_invoice_number() for _ in range(2)]
    assert [judged(r, "generate-invoice-number", home.alt) for r in asked] == [[], []]
    assert [r.json() for r in asked] == [{"invoiceNumber": "1"}] * 2
    invoice = converted(home, created(home)["_id"])
    assert invoice["invoiceNumber"] == "1"
    assert home.next_invoice_number().json() == {"invoiceNumber": "2"}


def test_estimates_are_listed_newest_first_a_page_at_a_time(home: Caller) -> None:
    mine = [created(home, name=f"Paged {n}")["_id"] for n in range(3)]
    everything = home.list_estimates()
    assert judged(everything, "list-estimates", {**home.alt, "limit": "100", "offset": "0"}) \
        == []
    body = everything.json()
    assert body["total"] == len(HOME.estimates) + 3 == len(body["estimates"])
    assert [e["_id"] for e in body["estimates"]] == [*reversed(mine),
                                                    *reversed(list(HOME.estimates))]
    assert all(e["altId"] == HOME.location_id for e in body["estimates"])
    page = home.list_estimates(limit=2, offset=1).json()
    assert (page["total"], [e["_id"] for e in page["estimates"]]) == (body["total"],
                                                                     [mine[1], mine[0]])
    assert home.list_estimates(limit=5, offset=100).json()["estimates"] == []


@pytest.mark.parametrize(("query", "expected"), [
    ({"status": "all"}, "everything"),
    ({"status": "draft"}, "drafts"),
    ({"status": "invoiced"}, "invoiced"),
    ({"search": "needle"}, "named"),
    ({"search": "NEEDLE"}, "named"),
    ({"contactId": "someone-else"}, "contact"),
    ({"startAt": "2026-08-27"}, "later"),
    ({"endAt": "2026-08-25"}, "earlier"),
], ids=["status-all", "status-draft", "status-invoiced", "search", "search-any-case",
        "contact", "start-at", "end-at"])
def test_list_filters(query: dict[str, str], expected: str, home: Caller) -> None:
    ids = {
        "named": created(home, name="A needle in it")["_id"],
        "invoiced": created(home)["_id"],
        "contact": created(home, contactDetails={"id": "someone-else", "name": "N",
                                                 "email": "n@example.com", "phoneNo": "1"})["_id"],
        "later": created(home, issueDate="2026-09-01", expiryDate="2026-10-01")["_id"],
        "earlier": created(home, issueDate="2026-01-01", expiryDate="2026-02-01")["_id"],
    }
    converted(home, ids["invoiced"])
    seeded = {"draft": [i for i, e in HOME.estimates.items() if e.get("estimateStatus") == "draft"],
              "all": list(HOME.estimates)}
    wanted = {
        "everything": {*ids.values(), *seeded["all"]},
        "drafts": {*ids.values(), *seeded["draft"]} - {ids["invoiced"]},
        "invoiced": {ids["invoiced"]},
        "named": {ids["named"]},
        "contact": {ids["contact"]},
        "later": {ids["later"]},
        "earlier": {ids["earlier"], *(i for i, e in HOME.estimates.items()
                                       if e["issueDate"][:10] <= "2026-08-25")},
    }[expected]
    listed = home.list_estimates(**query).json()
    assert {e["_id"] for e in listed["estimates"]} == wanted
    assert listed["total"] == len(wanted)


def test_invoices_are_listed_newest_first_a_page_at_a_time(home: Caller, other: Caller) -> None:
    mine = [converted(home, created(home, name=f"Paged {n}")["_id"])["_id"] for n in range(3)]
    converted(other, created(other)["_id"])  # another location's: never listed here
    everything = home.list_invoices()
    assert judged(everything, "list-invoices", {**home.alt, "limit": "100", "offset": "0"}) == []
    body = everything.json()
    assert (body["total"], [i["_id"] for i in body["invoices"]]) == (3, list(reversed(mine)))
    page = home.list_invoices(limit=1, offset=1).json()
    assert (page["total"], [i["_id"] for i in page["invoices"]]) == (3, [mine[1]])
    assert home.list_invoices(limit=5, offset=100).json()["invoices"] == []


@pytest.mark.parametrize(("query", "expected"), [
    ({}, "everything"),
    ({"status": "void"}, "voided"),
    ({"status": "draft"}, "drafts"),
    ({"search": "needle"}, "named"),
    ({"search": "NEEDLE"}, "named"),
    ({"search": "other@example.com"}, "contact"),
    ({"contactId": "someone-else"}, "contact"),
    ({"paymentMode": "test"}, "test-mode"),
    ({"paymentMode": "default"}, "everything"),
    ({"endAt": "2000-01-01"}, "none"),
], ids=["no-filter", "status-void", "status-draft", "search-name", "search-any-case",
        "search-email", "contact", "payment-mode-test", "payment-mode-default", "end-at"])
def test_invoice_list_filters(query: dict[str, str], expected: str, home: Caller) -> None:
    contact = {"id": "someone-else", "name": "N", "email": "other@example.com", "phoneNo": "1"}
    ids = {
        "named": converted(home, created(home, name="A needle in it")["_id"])["_id"],
        "voided": converted(home, created(home)["_id"])["_id"],
        "contact": converted(home, created(home, contactDetails=contact)["_id"])["_id"],
        "test-mode": converted(home, created(home, liveMode=False)["_id"])["_id"],
    }
    assert home.void_invoice(ids["voided"]).status_code == 200
    wanted = {
        "everything": set(ids.values()),
        "voided": {ids["voided"]},
        "drafts": set(ids.values()) - {ids["voided"]},
        "named": {ids["named"]},
        "contact": {ids["contact"]},
        "test-mode": {ids["test-mode"]},
        "none": set(),
    }[expected]
    listed = home.list_invoices(**query)
    assert judged(listed, "list-invoices") == []
    assert {i["_id"] for i in listed.json()["invoices"]} == wanted
    assert listed.json()["total"] == len(wanted)


def test_invoices_are_sorted_by_issue_date_when_asked(home: Caller,
                                                      mock: Running[MockApp]) -> None:
    days = [datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 2, 1, tzinfo=UTC)]
    made = [orjson.loads(mock.app.store.convert(created(home)["_id"], home.alt, day))
            ["invoice"]["_id"] for day in days]  # converted on those days, in this order
    by_day = [made[1], made[2], made[0]]
    ascending = home.list_invoices(sortField="issueDate", sortOrder="ascend").json()["invoices"]
    assert [i["_id"] for i in ascending] == by_day
    descending = home.list_invoices(sortField="issueDate").json()["invoices"]
    assert [i["_id"] for i in descending] == list(reversed(by_day))
    unsorted = home.list_invoices().json()["invoices"]
    assert [i["_id"] for i in unsorted] == list(reversed(made))  # newest first


@pytest.mark.parametrize(("query", "says"), [
    ({"limit": None}, "Required field /limit is missing."),
    ({"offset": None}, "Required field /offset is missing."),
    ({"altId": None}, "Required field /altId is missing."),
    ({"limit": "ten"}, '/limit is "ten", which does not match the documented pattern'),
    ({"status": "pending"}, '/status is "pending", which is not one of the documented values'),
    ({"startAt": "yesterday"}, '/startAt is "yesterday", which is not in the documented date'),
], ids=["no-limit", "no-offset", "no-alt-id", "limit-not-a-number", "unknown-status",
        "start-not-a-date"])
def test_list_query_is_validated(query: dict[str, str | None], says: str, home: Caller) -> None:
    sent = {**home.alt, "limit": "10", "offset": "0", **query}
    response = home.send("list-estimates", query={k: v for k, v in sent.items() if v is not None})
    assert response.status_code == 422
    assert judged(response, "list-estimates") == []
    [message] = response.json()["message"]
    assert message.startswith(says)


# The kind of object each operation names by its id.
BY_ID = {operation.id: operation.path_names[0].removesuffix("Id")
         for operation in MANIFEST if operation.path_names}


@pytest.mark.parametrize("operation_id", sorted(BY_ID))
def test_an_unknown_id_is_404(operation_id: str, home: Caller) -> None:
    unknown = "6578278e879ad2646715ffff"
    response = home.call(operation_id, unknown, unknown)
    assert response.status_code == 404
    assert response.json() == {"statusCode": 404,
                               "message": f"No {BY_ID[operation_id]} found with id {unknown}."}
    assert judged(response, operation_id) == []


@pytest.mark.parametrize("operation_id", sorted(BY_ID))
def test_another_locations_object_is_403(operation_id: str, home: Caller, other: Caller,
                                         mock: Running[MockApp]) -> None:
    estimate = created(other)["_id"]
    invoice = converted(other, estimate)["_id"]
    before = (mock.app.store.invoices(), mock.app.store.estimates())
    response = home.call(operation_id, estimate, invoice)
    assert response.status_code == 403
    assert response.json() == {"statusCode": 403,
                               "message": "The token does not have access to this location."}
    assert judged(response, operation_id) == []
    assert (mock.app.store.invoices(), mock.app.store.estimates()) == before  # nothing changed


@pytest.mark.parametrize("operation_id", list(MANIFEST.operations))
def test_a_request_naming_another_location_is_403(operation_id: str, home: Caller,
                                                   mock: Running[MockApp]) -> None:
    estimate = created(home)["_id"]
    invoice = converted(home, estimate)["_id"]
    before = (mock.app.store.invoices(), mock.app.store.estimates())
    # The token's own objects, asked for by a request whose altId is another location.
    stranger = Caller(home.http, HOME.token, OTHER.location_id)
    response = stranger.call(operation_id, estimate, invoice)
    assert response.status_code == 403, response.text
    assert judged(response, operation_id) == []
    assert (mock.app.store.invoices(), mock.app.store.estimates()) == before


def test_the_manifest_routes_list_before_an_estimate_id(home: Caller) -> None:
    # `/invoices/estimate/list` is the listing, not an estimate whose id is "list".
    response = home.send("list-estimates", query={**home.alt, "limit": "1", "offset": "0"})
    assert response.status_code == 200
    assert set(response.json()) == {"estimates", "total", "traceId"}
