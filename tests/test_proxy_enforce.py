"""--enforce: an answer that breaks the contract becomes a 502 listing its findings; any other
answer passes unchanged, after its judgement."""

from __future__ import annotations

import httpx
import pytest

from ghl_contract.mock import MockApp
from ghl_contract.proxy.testing import (
    CONVERSION,
    Recorded,
    conversion_headers,
    documented_request,
    proxied,
    report_after,
    served,
)

BODY = documented_request()


@pytest.mark.parametrize(("drift", "rule", "pointer"), [
    ("changed-type", "type-changed", "/invoice/amountDue"),
    ("wrong-total", "total-mismatch", "/invoice/total"),
], ids=["changed-type", "wrong-total"])
def test_a_breaking_answer_becomes_a_502_listing_its_findings(drift: str, rule: str,
                                                              pointer: str) -> None:
    with served(MockApp(drift=drift)) as url, proxied(url, enforce=True) as proxy, \
            httpx.Client() as client:
        answer = client.post(proxy.url + CONVERSION, content=BODY, headers=conversion_headers())
    assert answer.status_code == 502
    assert answer.headers["x-ghl-contract"] == "enforced"
    body = answer.json()
    assert (body["statusCode"], body["error"], body["upstreamStatus"]) == (502, "Bad Gateway", 200)
    assert (rule, pointer) in {(f["rule"], f["pointer"]) for f in body["findings"]}
    assert all(f["severity"] in ("breaking", "non-breaking") for f in body["findings"])
    assert "--enforce replaced 1 answer by a 502." in report_after(proxy).notes


@pytest.mark.parametrize("drift", [None, "added-field"], ids=["conformant", "non-breaking"])
def test_an_answer_that_keeps_the_contract_passes_unchanged(drift: str | None) -> None:
    upstream = Recorded(MockApp(drift=drift))
    with served(upstream) as url, proxied(url, enforce=True) as proxy, \
            httpx.Client() as client:
        answer = client.post(proxy.url + CONVERSION, content=BODY, headers=conversion_headers())
    sent = upstream.answers[-1]
    assert (answer.status_code, answer.content) == (sent.status, sent.body)
    assert "x-ghl-contract" not in answer.headers
    assert not report_after(proxy).breaking


def test_a_request_that_breaks_its_contract_is_not_what_enforce_replaces() -> None:
    with served(MockApp()) as url, proxied(url, enforce=True) as proxy, \
            httpx.Client() as client:
        answer = client.post(proxy.url + CONVERSION, content=b'{"altType": "location"}',
                             headers=conversion_headers())
    assert answer.status_code == 422  # the upstream's own, right, refusal
    assert report_after(proxy).breaking  # the application's request is still reported
