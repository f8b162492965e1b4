"""`ghl-contract proxy` as a user runs it: its URL first, findings as NDJSON, reports and exit codes
when SIGINT or SIGTERM stops it (the exchange in flight answered first), usage errors as one
sentence, HTTPS upstreams verified, and no token in anything it writes."""

from __future__ import annotations

import asyncio
import http.server
import io
import json
import os
import signal
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import orjson
import pytest
import trustme

from ghl_contract.cli import run
from ghl_contract.mock import MockApp
from ghl_contract.proxy.testing import (
    CONVERSION,
    conversion_headers,
    documented_request,
    files_text,
    proxy_child,
    served,
)
from ghl_contract.resources import example_path
from ghl_contract.transport.testing import Received, Reply, refused_url
from ghl_contract.transport.testing import serve as serve_raw

BODY = documented_request()
STOPPED_WITHIN = 15.0  # seconds: the server's grace period (2 s) with room for a loaded machine


def test_findings_stream_as_ndjson_after_the_url_and_sigint_exits_1_on_breaking_drift(
        tmp_path: Path) -> None:
    with served(MockApp(drift="changed-type")) as url, proxy_child("--upstream", url) as child, \
            httpx.Client() as client:
        assert client.post(child.url + CONVERSION, content=BODY,
                           headers=conversion_headers()).status_code == 200
        code, out, err = child.stop(signal.SIGINT)
    assert code == 1
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert [(f["rule"], f["pointer"], f["operation"]) for f in lines] == [
        ("type-changed", "/invoice/amountDue", "create-invoice-from-estimate")]
    assert "1 exchange checked: 1 finding (1 breaking, 0 non-breaking)." in err


def test_a_baseline_acknowledges_the_drift_of_a_stopped_proxy(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"version": 1, "entries": [
        {"operation": "create-invoice-from-estimate", "rule": "type-changed",
         "pointer": "/invoice/amountDue", "reason": "known: amountDue comes as a string"}]}),
        encoding="utf-8")
    with served(MockApp(drift="changed-type")) as url, proxy_child(
            "--upstream", url, "--baseline", str(baseline), "--report-dir",
            str(tmp_path / "reports")) as child, httpx.Client() as client:
        assert client.post(child.url + CONVERSION, content=BODY,
                           headers=conversion_headers()).status_code == 200
        code, _, _ = child.stop(signal.SIGINT)
    assert code == 0
    report = json.loads((tmp_path / "reports" / "drift-report.json").read_text("utf-8"))
    assert report["findings"] == []
    assert [a["finding"]["rule"] for a in report["baseline"]["acknowledged"]] == ["type-changed"]


def test_sigterm_mid_request_answers_the_exchange_in_flight_then_writes_the_reports(
        tmp_path: Path) -> None:
    arrived, release = threading.Event(), threading.Event()
    mock = MockApp()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":  # not the start's check
            arrived.set()
            await asyncio.to_thread(release.wait, 10)
        await mock(scope, receive, send)

    answers: list[httpx.Response] = []
    with served(slow) as url, proxy_child("--upstream", url, "--report-dir",
                                          str(tmp_path)) as child:
        def call() -> None:
            with httpx.Client(timeout=30) as client:
                answers.append(client.post(child.url + CONVERSION, content=BODY,
                                           headers=conversion_headers()))

        caller = threading.Thread(target=call)
        caller.start()
        assert arrived.wait(10)
        child.process.send_signal(signal.SIGTERM)
        release.set()  # the upstream answers after the proxy was told to stop
        caller.join(STOPPED_WITHIN)
        code, out, err = child.stop(signal.SIGTERM, STOPPED_WITHIN)
    assert code == 0, err
    assert [answer.status_code for answer in answers] == [200]
    report = json.loads((tmp_path / "drift-report.json").read_text("utf-8"))
    assert report["summary"]["checked"] == 1
    assert {path.name for path in tmp_path.iterdir()} >= {
        "drift-report.json", "drift-report.md", "junit.xml", "findings.ndjson"}
    assert (tmp_path / "findings.ndjson").read_text("utf-8") == ""
    assert out.strip() == ""  # the findings went to the file


def test_sigterm_with_an_upstream_that_never_answers_ends_within_the_grace_period(
        tmp_path: Path) -> None:
    answers: list[httpx.Response] = []

    def hang(received: Received, index: int) -> Reply:
        return Reply(200, delay=60 if received.method == "GET" else 0)  # not the start's HEAD

    with serve_raw(hang) as upstream, \
            proxy_child("--upstream", upstream.url, "--report-dir", str(tmp_path)) as child:
        def call() -> None:
            with httpx.Client(timeout=30) as client:
                answers.append(client.get(child.url + "/invoices/inv-1"))

        caller = threading.Thread(target=call)
        caller.start()
        while len(upstream.requests) < 2:
            threading.Event().wait(0.05)
        code, _, err = child.stop(signal.SIGTERM, STOPPED_WITHIN)
        caller.join(STOPPED_WITHIN)
    assert code == 0, err
    assert "Traceback" not in err
    assert [(a.status_code, a.headers["x-ghl-contract"]) for a in answers] == [(503, "shutdown")]
    notes = json.loads((tmp_path / "drift-report.json").read_text("utf-8"))["notes"]
    assert "1 exchange cut short by the proxy's shutdown." in notes


def test_the_junit_report_fails_the_operation_whose_answers_broke(tmp_path: Path) -> None:
    with served(MockApp(drift="wrong-total")) as url, \
            proxy_child("--upstream", url, "--report-dir", str(tmp_path)) as child, \
            httpx.Client() as client:
        client.post(child.url + CONVERSION, content=BODY, headers=conversion_headers())
        client.get(child.url + "/__mock__/estimates")
        code, _, _ = child.stop()
    assert code == 1
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["create-invoice-from-estimate"]
    failure = cases["create-invoice-from-estimate"].find("failure")
    assert failure is not None
    assert "total-mismatch at /invoice/total" in (failure.text or "")


@pytest.mark.parametrize(("arguments", "said"), [
    (["--upstream", "ftp://example.com"], "is not an absolute http:// or https:// URL"),
    (["--upstream", "http://user:pw@127.0.0.1:1"], "must not carry credentials"),
    (["--upstream", "http://127.0.0.1:1", "--port", "70000"], "is not a TCP port"),
    (["--upstream", "http://127.0.0.1:1", "--request-timeout", "0"], "must be greater than 0"),
], ids=["not-http", "credentials", "port", "timeout"])
def test_a_usage_error_is_one_sentence_and_exit_2(arguments: list[str], said: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run(["proxy", *arguments], out, err) == 2
    assert said in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) == 1
    assert out.getvalue() == ""


def test_an_upstream_that_does_not_answer_at_start_is_exit_2() -> None:
    out, err = io.StringIO(), io.StringIO()
    with refused_url() as url:
        assert run(["proxy", "--upstream", url, "--port", "0"], out, err) == 2
    assert err.getvalue().startswith(f"error: The upstream {url} cannot be reached:")
    assert out.getvalue() == ""


@contextmanager
def _https_upstream(authority: trustme.CA) -> Iterator[str]:
    """A loopback HTTPS server (certificate for 127.0.0.1 from `authority`) answering {} 200."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(b"{}")

        do_GET = do_HEAD = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_https_upstream_is_verified(tmp_path: Path) -> None:
    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    with _https_upstream(authority) as url:
        out, err = io.StringIO(), io.StringIO()
        assert run(["proxy", "--upstream", url, "--port", "0"], out, err) == 2
        assert "certificate verify failed" in err.getvalue()
        environment = {**os.environ, "SSL_CERT_FILE": str(ca_file)}
        with proxy_child("--upstream", url, env=environment) as child, httpx.Client() as client:
            answer = client.get(child.url + "/anything")
            code, _, err = child.stop()
    assert (answer.status_code, answer.content) == (200, b"{}")
    assert code == 0, err


CANARY = "canary-Tok3n+/=secret"  # with characters that JSON and URLs may write differently


def test_a_token_the_client_sends_appears_in_nothing_the_proxy_writes(tmp_path: Path) -> None:
    documented = orjson.loads(example_path("response-200").read_bytes())
    documented["invoice"]["currency"] = CANARY  # echoed where a finding shows the value
    escaped = CANARY.replace("/", "\\/")  # as a JSON encoder that escapes slashes writes it

    def echo(received: Any, index: int) -> Reply:
        body = orjson.dumps(documented)
        if index % 2:  # cut short, with the token JSON-escaped in what is left
            body = body[:-2] + f' "{escaped}"'.encode()
        return Reply(200, (("Content-Type", "application/json"),
                           ("Location", "/x?t=" + quote(CANARY, safe="")), ("X-Echo", CANARY)),
                     body)

    reports, recording = tmp_path / "reports", tmp_path / "recording"
    with serve_raw(echo) as upstream, proxy_child(
            "--upstream", upstream.url, "--report-dir", str(reports), "--record", str(recording),
            "--enforce") as child, httpx.Client() as client:
        answers = [client.post(child.url + CONVERSION, content=BODY,
                               headers=conversion_headers(CANARY)) for _ in range(2)]
        unknown = client.get(child.url + "/other", headers={"Authorization": f"Bearer {CANARY}"})
        code, out, err = child.stop()
    assert upstream.requests[1].headers["authorization"] == f"Bearer {CANARY}"  # forwarded
    assert code == 1
    assert [answer.status_code for answer in answers] == [502, 502]
    assert unknown.headers["x-echo"] == CANARY  # relayed as it came, to its own client
    assert (recording / "exchanges.har").is_file()
    assert (reports / "drift-report.json").is_file()
    written = "\n".join([out, err, files_text(reports, recording),
                         *(answer.text for answer in answers)])
    assert "currency" in written  # the findings about the echoed field are there
    assert "canary-Tok3n" not in written
