"""An upstream that fails is a finding, and the client gets a 502 (or a connection closed as the
upstream closed it), never a hang; bodies past the bound are forwarded, not judged."""

from __future__ import annotations

import time

import httpx
import pytest

from ghl_contract.proxy.testing import (
    CONVERSION,
    conversion_headers,
    documented_request,
    proxied,
    report_after,
)
from ghl_contract.transport.testing import (
    Action,
    Drop,
    Hang,
    Received,
    Reply,
    Reset,
    json_reply,
    refused_url,
)
from ghl_contract.transport.testing import serve as serve_raw

BODY = documented_request()
GET_INVOICE = "/invoices/inv-1?altId=loc-1&altType=location"
# What a client of the API sends with every request (judged with it).
DOCUMENTED = {"Version": "2021-07-28"}


@pytest.mark.parametrize(("method", "path", "rule"), [
    # The conversion writes: reset after it was sent, it may have created an invoice.
    ("POST", CONVERSION, "outcome-unknown"),
    ("GET", GET_INVOICE, "connection-error"),
], ids=["write-outcome-unknown", "read-connection-error"])
@pytest.mark.parametrize("enforce", [False, True], ids=["default", "enforce"])
def test_an_upstream_that_resets_gives_a_502_and_a_finding(method: str, path: str, rule: str,
                                                          enforce: bool) -> None:
    with serve_raw(lambda received, index: Reset()) as upstream, \
            proxied(upstream.url, enforce=enforce) as proxy, httpx.Client() as client:
        answer = client.request(method, proxy.url + path, content=BODY if method == "POST" else b"",
                                headers=conversion_headers())
    assert answer.status_code == 502
    assert answer.headers["x-ghl-contract"] == "upstream-fault"
    assert [f["rule"] for f in answer.json()["findings"]] == [rule]
    assert [(f.rule, f.source) for f in report_after(proxy).findings
            if f.source and f.source.endswith("response")] == [
        (rule, f"#1 {method} {path} response")]


@pytest.mark.parametrize("failing", [Drop(), Reset()], ids=["closed", "reset"])
@pytest.mark.parametrize("reused", [False, True], ids=["new-connection", "kept-alive-connection"])
def test_a_request_whose_connection_fails_reaches_the_upstream_once(failing: Action,
                                                                   reused: bool) -> None:
    # A GET may be sent again by a client library; a proxy that did would forward it twice.
    def answer(received: Received, index: int) -> Action:
        return json_reply(200, {}) if received.path == "/first" else failing

    with serve_raw(answer) as upstream, proxied(upstream.url) as proxy, \
            httpx.Client() as client:
        if reused:
            assert client.get(proxy.url + "/first").status_code == 200
        got = client.get(proxy.url + GET_INVOICE)
    assert got.status_code == 502
    assert [r.path for r in upstream.requests] == ["/first"] * reused + [GET_INVOICE]


def test_an_upstream_that_does_not_answer_in_time_gives_a_502_within_the_timeout() -> None:
    with serve_raw(lambda received, index: Hang(30)) as upstream, \
            proxied(upstream.url, timeout=0.5) as proxy, \
            httpx.Client(timeout=20, headers=DOCUMENTED) as client:
        started = time.monotonic()
        answer = client.get(proxy.url + GET_INVOICE)
        waited = time.monotonic() - started
    assert answer.status_code == 502
    assert waited < 10
    assert [f.rule for f in report_after(proxy).findings] == ["timeout"]


def test_an_answer_cut_mid_body_closes_the_clients_connection_and_is_a_finding() -> None:
    cut = Reply(200, (("Content-Type", "application/json"),), b'{"invoice": {"_id"',
                declared_length=400)
    with serve_raw(lambda received, index: cut) as upstream, proxied(upstream.url) as proxy, \
            httpx.Client(headers=DOCUMENTED) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(proxy.url + GET_INVOICE)
    assert [(f.rule, f.status) for f in report_after(proxy).findings] == [
        ("connection-error", 200)]


def test_an_unreachable_upstream_mid_session_gives_502s() -> None:
    with refused_url() as url, proxied(url) as proxy, httpx.Client(headers=DOCUMENTED) as client:
        known = client.get(proxy.url + GET_INVOICE)
        unknown = client.get(proxy.url + "/no/such/route")
    assert (known.status_code, unknown.status_code) == (502, 502)
    report = report_after(proxy)
    assert [f.rule for f in report.findings] == ["connection-error"]
    assert "1 request of no known operation got no complete answer from the upstream." \
        in report.notes


def test_a_body_past_the_bound_is_forwarded_whole_and_not_judged() -> None:
    large = b'{"invoice": "' + b"x" * 5000 + b'"}'

    def answer(received: Received, index: int) -> Reply:
        if index == 0:
            return json_reply(200, {"size": len(received.body)})
        return Reply(200, (("Content-Type", "application/json"),), large)

    with serve_raw(answer) as upstream, proxied(upstream.url, max_body=1024) as proxy, \
            httpx.Client(headers=DOCUMENTED) as client:
        sent = client.post(proxy.url + "/upload", content=b"y" * 5000)
        got = client.get(proxy.url + GET_INVOICE)
    assert sent.json() == {"size": 5000}
    assert got.content == large
    report = report_after(proxy)
    assert report.findings == []
    assert "1 answer forwarded unjudged: larger than 1 KiB." in report.notes
