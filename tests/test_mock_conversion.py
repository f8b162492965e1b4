"""A conversion over HTTP: the invoice derived from its estimate, the estimate after, the store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ghl_contract.judge import check_body
from ghl_contract.mock import MockApp, Running, load_seed, serve
from ghl_contract.mock.derive import ITEM_FIELDS
from ghl_contract.mock.seed import DEFAULT_SEED
from ghl_contract.money import invoice_total

SEED = load_seed()
HOME, OTHER = SEED.locations
DOCUMENTED = "5f9d6d8b1b2d2c001f2d9e4b"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def mock() -> Iterator[Running[MockApp]]:
    with serve(MockApp(SEED)) as running:
        yield running


@pytest.fixture
def client(mock: Running[MockApp]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.url, timeout=5.0) as http:
        yield http


def convert(client: httpx.Client, estimate_id: str = DOCUMENTED, *, mark: bool = True,
            token: str = HOME.token, alt_id: str = HOME.location_id) -> httpx.Response:
    return client.post(
        f"/invoices/estimate/{estimate_id}/invoice",
        headers={"Authorization": f"Bearer {token}", "Version": "2021-07-28"},
        json={"altId": alt_id, "altType": "location", "markAsInvoiced": mark, "version": "v2"})


def _stamp(text: str) -> datetime:
    assert TIMESTAMP.match(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@pytest.mark.parametrize("estimate_id", list(HOME.estimates),
                         ids=[f"{e['currency']}-{len(e['items'])}-items-{i}"
                              for i, e in enumerate(HOME.estimates.values())])
def test_invoice_is_derived_from_its_estimate(estimate_id: str, client: httpx.Client) -> None:
    estimate = HOME.estimates[estimate_id]
    before = datetime.now(UTC).replace(microsecond=0)
    response = convert(client, estimate_id, mark=False)
    after = datetime.now(UTC)
    assert response.status_code == 200
    request = {"altId": HOME.location_id, "altType": "location", "markAsInvoiced": False,
               "version": "v2"}
    assert check_body(response.content, status=200, content_type=response.headers["content-type"],
                      request=request, path={"estimateId": estimate_id}) == []
    invoice = response.json()["invoice"]
    assert response.json()["estimate"] == estimate  # markAsInvoiced false leaves it as it was
    total = float(invoice_total(estimate["items"], estimate["discount"]))
    assert (invoice["total"], invoice["amountDue"], invoice["amountPaid"]) == (total, total, 0)
    assert [{key: value for key, value in item.items() if key != "_id"}
            for item in invoice["invoiceItems"]] == [
        {key: item[key] for key in ITEM_FIELDS if key in item} for item in estimate["items"]]
    for field in ("businessDetails", "contactDetails", "currency", "discount", "name",
                  "liveMode"):
        assert invoice[field] == estimate[field], field
    assert (invoice["status"], invoice["altId"], invoice["altType"], invoice["invoiceNumber"]) == (
        "draft", HOME.location_id, "location", "1")
    assert re.fullmatch(r"[0-9a-f]{24}", invoice["_id"])
    assert invoice["issueDate"] == invoice["dueDate"]
    assert invoice["issueDate"] in {before.date().isoformat(), after.date().isoformat()}
    assert before <= _stamp(invoice["createdAt"]) <= after
    assert invoice["updatedAt"] == invoice["createdAt"]


def test_mark_as_invoiced_marks_the_estimate(client: httpx.Client, mock: Running[MockApp]) -> None:
    first = convert(client).json()["estimate"]
    second = convert(client).json()["estimate"]
    for estimate in (first, second):
        assert estimate["estimateStatus"] == "invoiced"
        assert estimate["estimateActionHistory"][-1] == {"action": "Invoiced",
                                                          "timestamp": estimate["updatedAt"]}
    seeded = HOME.estimates[DOCUMENTED]["estimateActionHistory"]
    # Invoiced twice in a row: one entry, with the latest time.
    assert second["estimateActionHistory"][:-1] == seeded
    assert _stamp(second["updatedAt"]) >= _stamp(first["updatedAt"])
    assert mock.app.store.estimate(DOCUMENTED) == second
    assert SEED.locations[0].estimates[DOCUMENTED]["estimateActionHistory"] == seeded  # seed kept


def test_invoice_numbers_follow_each_location(client: httpx.Client,
                                              mock: Running[MockApp]) -> None:
    [other_estimate] = OTHER.estimates
    numbers = [
        convert(client).json()["invoice"]["invoiceNumber"],
        convert(client, "6578278e879ad2646715e004").json()["invoice"]["invoiceNumber"],
        convert(client, other_estimate, token=OTHER.token,
                alt_id=OTHER.location_id).json()["invoice"]["invoiceNumber"],
        convert(client).json()["invoice"]["invoiceNumber"],
    ]
    assert numbers == ["1", "2", "1", "3"]
    stored = mock.app.store.invoices()
    assert [(i["altId"], i["invoiceNumber"]) for i in stored] == [
        (HOME.location_id, "1"), (HOME.location_id, "2"), (OTHER.location_id, "1"),
        (HOME.location_id, "3")]
    assert client.get("/__mock__/invoices").json() == stored
    assert len({invoice["_id"] for invoice in stored}) == 4


def test_refused_requests_create_nothing(client: httpx.Client, mock: Running[MockApp]) -> None:
    statuses = [
        convert(client, token="nope").status_code,
        convert(client, "no-such-estimate").status_code,
        convert(client, alt_id=OTHER.location_id).status_code,
        client.post(f"/invoices/estimate/{DOCUMENTED}/invoice", json={},
                    headers={"Authorization": f"Bearer {HOME.token}",
                             "Version": "2021-07-28"}).status_code,
    ]
    assert statuses == [401, 404, 403, 422]
    assert mock.app.store.invoices() == []
    assert mock.app.store.estimate(DOCUMENTED) == HOME.estimates[DOCUMENTED]


def test_deleted_estimate_is_not_found(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_SEED.read_text("utf-8"))
    data["locations"][0]["estimates"][0]["deleted"] = True
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), "utf-8")
    with serve(MockApp(load_seed(path))) as running, \
            httpx.Client(base_url=running.url) as http:
        assert convert(http).status_code == 404
        assert convert(http, "6578278e879ad2646715e001").status_code == 200


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/invoices/estimate/{DOCUMENTED}/invoice"),
    ("PUT", f"/invoices/estimate/{DOCUMENTED}/invoice"),
    ("POST", "/invoices/estimate//invoice"),
    ("POST", f"/invoices/estimate/{DOCUMENTED}/invoices"),
    ("GET", "/"),
    ("POST", "/__mock__/invoices"),
], ids=["get-endpoint", "put-endpoint", "empty-estimate-id", "other-path", "root",
        "post-store"])
def test_other_routes_are_404(method: str, path: str, client: httpx.Client) -> None:
    response = client.request(method, path, headers={"Authorization": f"Bearer {HOME.token}",
                                                     "Version": "2021-07-28"})
    assert response.status_code == 404
    assert response.json() == {"statusCode": 404, "message": f"Cannot {method} {path}",
                               "error": "Not Found"}
    assert check_body(response.content, "error", status=404,
                      content_type=response.headers["content-type"]) == []
    assert "x-ratelimit-remaining" in response.headers


def test_store_route_lists_invoices_as_json(client: httpx.Client) -> None:
    assert client.get("/__mock__/invoices").json() == []
    invoice = convert(client).json()["invoice"]
    listed = client.get("/__mock__/invoices")
    assert listed.headers["content-type"] == "application/json; charset=utf-8"
    assert listed.json() == [invoice]
    assert "x-ratelimit-remaining" not in listed.headers  # the mock's own route, not the API's
