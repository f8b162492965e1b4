"""Redaction: the run's token is in no exchange, recording, log line, message or output."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest

from ghl_contract.transport import Client, Exchange, WriteSkipped, redact, redact_headers
from ghl_contract.transport.testing import (
    ESTIMATE_ID,
    TOKEN,
    Action,
    Drop,
    Hang,
    Received,
    Reply,
    json_reply,
    live_settings,
    serve,
)


def echo(request: Received, index: int) -> Action:
    """A server that repeats the Authorization header back, in a header and in the body, and
    misbehaves in turn: the token must be redacted wherever it comes back."""
    auth = request.headers.get("authorization", "")
    kind = index % 5
    if kind == 1:
        return json_reply(429, {"statusCode": 429, "message": auth},
                          (("Retry-After", "0"), ("X-Echo", auth)))
    if kind == 3:
        return Drop()
    if kind == 4:
        return Hang(5)
    return Reply(200, (("Content-Type", "application/json"), ("X-Echo", auth)),
                 orjson.dumps({"estimate": {"_id": ESTIMATE_ID},
                               "invoice": {"_id": f"inv-{index}", "invoiceNumber": auth},
                               "echo": auth}))


def test_canary_token_appears_nowhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx, httpcore and ours, at their most talkative
    record_dir = tmp_path / "recording"
    exchanges: list[Exchange] = []
    messages: list[str] = []
    with serve(echo) as server, Client(
        live_settings(server.url, allow_writes=True, max_writes=4, record_dir=record_dir,
                      request_timeout=0.5),
        base_url=server.url, token=TOKEN,
    ) as client:
        for _ in range(4):
            exchanges.append(client.send(ESTIMATE_ID, {"altId": "loc-1", "note": TOKEN}))
        exchanges.append(client.send(ESTIMATE_ID, {"altId": "loc-1"},
                                     headers={"Authorization": "Bearer wrong"}))
        for attempt in (lambda: client.send(ESTIMATE_ID, {}),  # over budget
                        lambda: client.send(ESTIMATE_ID, {}, headers={"X-Bad": f"{TOKEN}\n"})):
            with pytest.raises((WriteSkipped, ValueError)) as raised:
                attempt()
            messages += [str(raised.value), repr(raised.value)]
        shown = [repr(client), repr(client.settings), repr(client.created_invoices),
                 str(client.stats)]
    print(*(repr(exchange) for exchange in exchanges))  # as a suite would, into its output
    captured = capfd.readouterr()

    assert len(server.requests) >= 5
    assert any(record.name.startswith("httpcore") for record in caplog.records)
    assert any(e.write and e.request_headers["authorization"] == "Bearer <redacted>"
               for e in exchanges)
    assert any(b"<redacted>" in e.response_body for e in exchanges)  # the echo came back
    places = {
        "exchanges": "\n".join(repr(e) + repr(e.request_body) + repr(e.response_body)
                               for e in exchanges),
        "findings": "\n".join(str(f.to_dict()) for e in exchanges for f in e.faults),
        "messages": "\n".join(messages),
        "reprs": "\n".join(shown),
        "log": caplog.text + "\n".join(record.getMessage() for record in caplog.records),
        "stdout": captured.out,
        "stderr": captured.err,
    }
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert any(name.endswith(".har") for name in places)
    leaks = [name for name, text in places.items() if TOKEN in text]
    assert leaks == []


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        pytest.param({"Authorization": f"Bearer {TOKEN}"}, {"Authorization": "Bearer <redacted>"},
                     id="bearer"),
        pytest.param({"authorization": "Bearer wrong"}, {"authorization": "Bearer <redacted>"},
                     id="any-authorization"),
        pytest.param({"Authorization": TOKEN}, {"Authorization": "<redacted>"}, id="no-scheme"),
        pytest.param({"Authorization": f"{TOKEN} x"}, {"Authorization": "<redacted>"},
                     id="secret-as-scheme"),
        pytest.param({"Cookie": "session=abc"}, {"Cookie": "<redacted>"}, id="cookie"),
        pytest.param({"X-Echo": f"token={TOKEN};"}, {"X-Echo": "token=<redacted>;"},
                     id="secret-in-other-header"),
        pytest.param({"Version": "2021-07-28"}, {"Version": "2021-07-28"}, id="harmless"),
    ],
)
def test_redact_headers(headers: dict[str, str], shown: dict[str, str]) -> None:
    assert redact_headers(headers, [TOKEN]) == shown


def test_redact_replaces_every_secret_whole() -> None:
    assert redact(f"a {TOKEN} b {TOKEN}-extra", [TOKEN, f"{TOKEN}-extra", None]) == (
        "a <redacted> b <redacted>")
    # A secret too short to search for would corrupt every JSON body ("null", "1").
    assert redact('{"a": null}', ["null"]) == '{"a": null}'


@pytest.mark.parametrize("written", [
    pytest.param("eyJh.b/c+d==", id="as-is"),
    pytest.param("eyJh.b\\/c+d==", id="json-escaped-slash"),
    pytest.param("eyJh.b%2Fc%2Bd%3D%3D", id="percent-encoded"),
])
def test_a_token_echoed_in_another_encoding_is_redacted(written: str) -> None:
    # A server may echo the token inside a JSON string (PHP writes "\/") or a URL.
    assert redact(f'{{"echo": "Bearer {written}"}}', ["eyJh.b/c+d=="]) == (
        '{"echo": "Bearer <redacted>"}')
