"""Each exchange of a known operation is judged as a run judges it: the request against its
contract, the answer against its status's, invariants, rate-limit headers, reused numbers; a
request of no known operation is forwarded and counted, never judged."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import orjson
import pytest

from ghl_contract.cli import run
from ghl_contract.mock import DRIFT_PROFILES, DriftProfile, MockApp
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.testing import Caller, drifted_answer
from ghl_contract.proxy.testing import (
    CONVERSION,
    conversion_headers,
    documented_request,
    proxied,
    report_after,
    served,
)
from ghl_contract.resources import example_path
from ghl_contract.transport.testing import Received, Reply
from ghl_contract.transport.testing import serve as serve_raw

BODY = documented_request()
# What makes the mock answer with each status a drift profile changes.
REQUEST_FOR_STATUS = {200: BODY, 422: b'{"altType": "location"}'}


@pytest.mark.parametrize("drift", DRIFT_PROFILES.values(), ids=lambda drift: drift.name)
def test_a_drifted_answer_is_reported_at_its_rule_and_pointer(drift: DriftProfile) -> None:
    home = load_seed().locations[0]
    with served(MockApp(drift=drift.name)) as url, proxied(url) as proxy, \
            httpx.Client(base_url=proxy.url) as client:
        caller = Caller(client, home.token, home.location_id)
        for _ in range(2):  # a reused number needs a second object
            answer, _, _ = drifted_answer(caller, drift.operation, drift.status)
            assert answer.status_code == drift.status
    found = {(f.rule, f.pointer) for f in report_after(proxy).findings}
    assert (drift.rule, drift.pointer) in found
    streamed = {(f["rule"], f["pointer"]) for f in proxy.findings()}
    assert streamed == found


@pytest.mark.parametrize("body", REQUEST_FOR_STATUS.values(), ids=["200", "422"])
def test_the_conformant_mocks_answers_give_no_finding(body: bytes) -> None:
    with served(MockApp()) as url, proxied(url) as proxy, httpx.Client() as client:
        for _ in range(3):
            client.post(proxy.url + CONVERSION, content=body, headers=conversion_headers())
    report = report_after(proxy)
    assert report.checked == 3
    assert [f for f in report.findings if not f.source or not f.source.endswith(" request")] == []


def test_a_request_that_breaks_its_contract_is_reported_as_the_request() -> None:
    with served(MockApp()) as url, proxied(url) as proxy, httpx.Client() as client:
        client.post(proxy.url + CONVERSION, content=b'{"altType": "location"}',
                    headers=conversion_headers())
    findings = report_after(proxy).findings
    assert findings, "the request lacks altId"
    assert all(f.source == f"#1 POST {CONVERSION} request" for f in findings)
    assert ("missing-required", "/altId") in {(f.rule, f.pointer) for f in findings}
    assert {f.operation for f in findings} == {"create-invoice-from-estimate"}


INVOICE = "/invoices/6578278e879ad2646715ba9c"
LOCATION = "altId=6578278e879ad2646715ba9c&altType=location"


@pytest.mark.parametrize(("target", "headers", "pointer"), [
    (f"{INVOICE}?{LOCATION}", {}, "/header/Version"),
    (f"{INVOICE}?{LOCATION}", {"Version": "2021-04-15"}, "/header/Version"),
    (f"{INVOICE}?altId=6578278e879ad2646715ba9c&altType=company", {"Version": "v3"},
     "/query/altType"),
    (f"{INVOICE}?altType=location", {"Version": "v3"}, "/query/altId"),
    (f"/invoices/estimate/list?{LOCATION}&limit=ten&offset=0", {"Version": "2021-07-28"},
     "/query/limit"),
], ids=["no-version", "unknown-version", "wrong-alt-type", "no-alt-id", "limit-not-a-number"])
def test_a_request_whose_parameters_break_the_contract_is_reported_at_them(
        target: str, headers: dict[str, str], pointer: str) -> None:
    """The team's own application sending what HighLevel refuses (a Version it stopped
    accepting, a missing altId) is the drift the proxy is there to show before an upgrade."""
    with served(MockApp()) as url, proxied(url) as proxy, httpx.Client() as client:
        client.get(proxy.url + target, headers={"Authorization": "Bearer t", **headers})
    requests = [f for f in report_after(proxy).findings if f.source and f.source.endswith(
        " request")]
    assert [(f.pointer, f.breaking) for f in requests] == [(pointer, True)]


def test_documented_parameters_in_any_header_case_with_more_besides_give_no_finding() -> None:
    with served(MockApp()) as url, proxied(url) as proxy, httpx.Client() as client:
        client.get(f"{proxy.url}{INVOICE}?{LOCATION}&extra=1",
                   headers={"authorization": "Bearer t", "version": "2021-07-28",
                            "X-Team-Trace": "abc"})
    assert [f for f in report_after(proxy).findings if f.source and f.source.endswith(
        " request")] == []


def test_a_request_of_no_known_operation_is_forwarded_and_counted_not_judged() -> None:
    with served(MockApp()) as url, proxied(url) as proxy, httpx.Client() as client:
        assert client.get(proxy.url + "/__mock__/estimates").status_code == 200
        assert client.post(proxy.url + "/no/such/route", content=b"not json").status_code == 404
    report = report_after(proxy)
    assert (report.findings, report.checked) == ([], 0)
    assert "2 requests forwarded: 0 of a known operation judged, 2 of no known operation " \
           "forwarded unjudged." in report.notes


def test_a_route_of_the_api_no_operation_describes_is_not_taken_for_one() -> None:
    """GET /invoices/template lists templates: judged as get-invoice (an invoice whose id is
    "template") it would be breaking drift, and --enforce would turn it into a 502."""
    templates = orjson.dumps({"data": [{"_id": "t-1", "name": "Default"}], "totalCount": 1})

    def answer(_request: object, _index: int) -> Reply:
        return Reply(200, (("Content-Type", "application/json"),), templates)

    with serve_raw(answer) as upstream, proxied(upstream.url, enforce=True) as proxy, \
            httpx.Client() as client:
        relayed = client.get(proxy.url + "/invoices/template?altId=l-1&altType=location",
                             headers={"Authorization": "Bearer t"})
    assert (relayed.status_code, relayed.content) == (200, templates)
    report = report_after(proxy)
    assert (report.findings, report.checked) == ([], 0)
    assert "1 of no known operation forwarded unjudged" in " ".join(report.notes)


def test_a_path_ending_like_an_operation_behind_a_prefix_is_not_judged() -> None:
    """The proxy reads paths from the API's root (a gateway's base path goes in --upstream):
    `/reports/invoices` is not list-invoices behind a base path "/reports"."""
    report = orjson.dumps([{"month": "2026-11", "count": 3}])

    def answer(_request: object, _index: int) -> Reply:
        return Reply(200, (("Content-Type", "application/json"),), report)

    with serve_raw(answer) as upstream, proxied(upstream.url, enforce=True) as proxy, \
            httpx.Client() as client:
        relayed = client.get(proxy.url + "/reports/invoices", headers={"Version": "2021-07-28"})
    assert (relayed.status_code, relayed.content) == (200, report)
    assert report_after(proxy).findings == []


def test_an_upstream_with_a_base_path_gets_it_before_every_request_and_its_traffic_is_judged(
        ) -> None:
    received: list[str] = []
    invoice = orjson.loads(example_path("response-200").read_bytes())["invoice"]

    def answer(request: Received, _index: int) -> Reply:
        received.append(request.path)
        return Reply(200, (("Content-Type", "application/json"),),
                     orjson.dumps({**invoice, "total": "a lot"}))

    with serve_raw(answer) as upstream, proxied(upstream.url + "/gateway") as proxy, \
            httpx.Client() as client:
        client.get(f"{proxy.url}{INVOICE}?{LOCATION}", headers={"Version": "2021-07-28"})
    assert received == [f"/gateway{INVOICE}?{LOCATION}"]
    assert ("get-invoice", "/total") in {(f.operation, f.pointer)
                                         for f in report_after(proxy).findings}


def test_a_number_given_twice_is_found_across_the_session() -> None:
    documented = orjson.loads(example_path("response-200").read_bytes())

    def answer(received: object, index: int) -> Reply:
        documented["invoice"]["_id"] = f"invoice-{index}"  # a new invoice, the same number
        return Reply(200, (("Content-Type", "application/json"),), orjson.dumps(documented))

    with serve_raw(answer) as upstream, proxied(upstream.url) as proxy, \
            httpx.Client() as client:
        for _ in range(2):
            client.post(proxy.url + CONVERSION, content=BODY, headers=conversion_headers())
    reused = [f for f in report_after(proxy).findings if f.rule == "invoice-number-reused"]
    assert [(f.pointer, f.source) for f in reused] == [
        ("/invoice/invoiceNumber", f"#2 POST {CONVERSION} response")]


def test_a_recording_is_judged_again_by_check_with_the_same_findings(tmp_path: Path) -> None:
    with served(MockApp(drift="wrong-total")) as url, \
            proxied(url, record_dir=tmp_path) as proxy, httpx.Client() as client:
        client.post(proxy.url + CONVERSION, content=BODY, headers=conversion_headers())
        client.get(proxy.url + "/__mock__/estimates")
    live = [(f.rule, f.pointer) for f in report_after(proxy).findings]
    out, err = io.StringIO(), io.StringIO()
    assert run(["check", str(tmp_path / "exchanges.har"), "--format", "json"], out, err) == 1
    assert [(f["rule"], f["pointer"]) for f in orjson.loads(out.getvalue())["findings"]] == live
    assert live == [("total-mismatch", "/invoice/total")]
