"""Redaction: the run's token is in no exchange, recording, log line, message or output, in any
of the forms a value takes on its way to an artifact."""

from __future__ import annotations

import html
import io
import json
import logging
import urllib.parse
from pathlib import Path

import orjson
import pytest

from ghl_contract.findings import Finding, Report, Severity
from ghl_contract.redact import (
    RedactingStream,
    redact,
    redact_bytes,
    redact_file,
    redact_headers,
    redact_value,
)
from ghl_contract.registry import pinned
from ghl_contract.suite.ledger import Ledger
from ghl_contract.transport import Exchange, WriteSkipped, open_client
from ghl_contract.transport.testing import (
    ESTIMATE_ID,
    TOKEN,
    Action,
    Drop,
    Hang,
    Received,
    Reply,
    convert,
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
    created = Ledger("t", "v")
    settings = live_settings("http://127.0.0.1:9")
    with serve(echo) as server, open_client(
        live_settings(server.url, allow_writes=True, max_writes=6, record_dir=record_dir,
                      request_timeout=0.5),
        base_url=server.url, token=TOKEN, on_exchange=[created.hook(pinned().manifest)],
    ) as client:
        for _ in range(4):
            exchanges.append(convert(client, {"altId": "loc-1", "note": TOKEN},
                                     note={"test": TOKEN}))
        exchanges.append(convert(client, {"altId": "loc-1"},
                                 headers={"Authorization": "Bearer wrong"}))
        for attempt in (lambda: convert(client, {}, headers={"X-Bad": f"{TOKEN}\n"}),
                        lambda: convert(client, {})):  # over budget
            with pytest.raises((WriteSkipped, ValueError)) as raised:
                attempt()
            messages += [str(raised.value), repr(raised.value)]
        shown = [repr(client), repr(settings), repr(created.entries), str(client.stats),
                 *(exchange.curl() for exchange in exchanges)]
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


# --- every form a token takes on its way to an artifact --------------------------------------

ODD = "ghl_canary+7f3a/9c~Z="  # a token68 with what escapers treat specially: _ + / ~ =


def _every_char(template: str) -> str:
    return "".join(template % ord(char) for char in ODD)


FORMS = [
    pytest.param(ODD, id="raw"),
    pytest.param(json.dumps(ODD)[1:-1], id="json"),
    pytest.param(ODD.replace("+", "\\u002B"), id="json-plus-as-dotnet-writes-it"),
    pytest.param(ODD.replace("+", "\\u002b"), id="json-plus-lower-case"),
    pytest.param(_every_char("\\u%04x"), id="json-every-char"),
    pytest.param(ODD.replace("/", "\\/"), id="json-escaped-slash"),
    pytest.param(json.dumps(ODD.replace("+", "\\u002B"))[1:-1], id="json-twice"),
    pytest.param(ODD.replace("+", "&#43;"), id="xml-decimal"),
    pytest.param(ODD.replace("+", "&#x2B;"), id="xml-hex"),
    pytest.param(ODD.replace("+", "&#x2b;").replace("/", "&#47;"), id="xml-mixed"),
    pytest.param(_every_char("&#%d;"), id="xml-every-char"),
    pytest.param(ODD.replace("+", "&amp;#43;"), id="xml-twice"),
    pytest.param(ODD.replace("_", "\\_").replace("~", "\\~").replace("+", "\\+"),
                 id="markdown"),
    pytest.param(ODD.replace("+", "&plus;").replace("/", "&sol;").replace("_", "&lowbar;"),
                 id="html-named"),
    pytest.param(html.escape(ODD), id="html-escape"),
    pytest.param(urllib.parse.quote(ODD, safe=""), id="percent-upper"),
    pytest.param(urllib.parse.quote(ODD, safe="").replace("%2B", "%2b").replace("%2F", "%2f"),
                 id="percent-lower"),
    pytest.param(_every_char("%%%02x"), id="percent-every-char"),
    pytest.param(urllib.parse.quote(urllib.parse.quote(ODD, safe=""), safe=""),
                 id="percent-twice"),
    pytest.param(repr(ODD.encode())[2:-1], id="python-bytes-repr"),
]


@pytest.mark.parametrize("written", FORMS)
def test_every_form_of_the_token_is_redacted(written: str) -> None:
    text = f'{{"echo": "Bearer {written}", "next": 1}}'
    assert redact(text, [ODD]) == '{"echo": "Bearer <redacted>", "next": 1}'
    assert redact_bytes(text.encode(), [ODD]) == b'{"echo": "Bearer <redacted>", "next": 1}'


def test_a_value_is_redacted_before_it_is_escaped_for_a_format() -> None:
    finding = Finding("/invoice/x", "type-changed", Severity.BREAKING,
                      f"Echoed {ODD}.", expected="a string", actual={"k": [ODD, 1]},
                      server_message=f"token {ODD} refused")
    report = redact_value(Report(findings=[finding], notes=[f"note {ODD}"]), [ODD])
    assert report.findings[0].actual == {"k": ["<redacted>", 1]}
    assert (report.findings[0].message, report.notes) == ("Echoed <redacted>.",
                                                          ["note <redacted>"])
    assert report.findings[0].severity is Severity.BREAKING  # what is not text stays as it was


def test_an_output_stream_holds_no_token_split_across_writes() -> None:
    out = io.StringIO()
    stream = RedactingStream(out, lambda: [ODD])
    for piece in ("start ", ODD[:5], ODD[5:], " end\nnext ", ODD.replace("+", "%2b"), "\n",
                  "tail"):
        stream.write(piece)
    stream.flush()
    assert out.getvalue() == "start <redacted> end\nnext <redacted>\ntail"


def test_a_written_file_is_redacted_in_place(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(f'<failure message="Bearer {ODD.replace("+", "&#43;")}"/>', "utf-8")
    redact_file(junit, [ODD])
    assert junit.read_text("utf-8") == '<failure message="Bearer <redacted>"/>'
    redact_file(tmp_path / "absent.xml", [ODD])  # nothing written, nothing to redact
