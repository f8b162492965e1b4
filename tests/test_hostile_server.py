"""Hostile servers on 127.0.0.1: a run ends in bounded time, holds bounded memory, leaks no token in
any form into any artifact, and sends no more writes than --max-writes, whatever the server does.

Each server is started here. The client is tested directly where that is enough (deadlines,
decompression bombs); the whole run (`ghl-contract run` in a child process) where the claim is
about the run: its duration, its artifacts, its write count, its output. Memory is measured by
bench/transport_memory.py, not here.
"""

from __future__ import annotations

import gzip
import html
import itertools
import json
import re
import time
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from ghl_contract.registry import pinned
from ghl_contract.resources import example_path
from ghl_contract.suite.testing import SuiteRun, run_suite
from ghl_contract.transport import Exchange, open_client
from ghl_contract.transport.testing import (
    Action,
    Behaviour,
    Raw,
    Received,
    Reply,
    convert,
    json_reply,
    live_settings,
    serve,
)

# A token with what escapers treat specially (_ + / ~ =) and fragments found nowhere else.
TOKEN = "ghl_canary+Qx7Zk/9c~Wv="
FRAGMENTS = ("canary", "Qx7Zk", "9c~Wv")
LOCATION, ESTIMATE = "loc-hostile", "est-hostile"
REQUEST_TIMEOUT, RUN_TIMEOUT = 2.0, 12.0
# A run's process starts (Python, pytest, the suite's imports) before its deadline is set, and
# writes its reports after: the bound of a run's duration allows for both, on a loaded machine
# too (about 2 s on an idle one). Without deadlines over the whole exchange these runs took
# minutes.
SLACK = 10.0
JSON = (("Content-Type", "application/json"),)


def _every(template: str, text: str = TOKEN) -> str:
    return "".join(template % ord(char) for char in text)


# The forms a token takes on its way to an artifact (the test looks for each one literally).
FORMS = {
    "raw": TOKEN,
    "json-dotnet": TOKEN.replace("+", "\\u002B"),
    "json-lower": TOKEN.replace("+", "\\u002b"),
    "json-every-char": _every("\\u%04x"),
    "json-slash": TOKEN.replace("/", "\\/"),
    "xml-decimal": TOKEN.replace("+", "&#43;"),
    "xml-hex": TOKEN.replace("+", "&#x2B;"),
    "xml-every-char": _every("&#%d;"),
    "markdown": re.sub(r"([_+~/=])", r"\\\1", TOKEN),
    "html-named": TOKEN.replace("+", "&plus;").replace("/", "&sol;"),
    "html-escape": html.escape(TOKEN),
    "percent-upper": urllib.parse.quote(TOKEN, safe=""),
    "percent-lower": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(),
                            urllib.parse.quote(TOKEN, safe="")),
}


def leaks(text: str) -> list[str]:
    """The forms of the token, and its fragments, found in `text`."""
    return [name for name, form in FORMS.items() if form in text] + [
        fragment for fragment in FRAGMENTS if fragment in text]


def _zeros_gzip(mib: int) -> bytes:
    """gzip members of 1 MiB of zeros each: `mib` MiB once decoded, a thousandth on the wire."""
    return gzip.compress(b"\0" * 2**20, 9) * mib


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


BOMB = _zeros_gzip(4096)  # 4 GiB of zeros in 4 MiB
BOMB_TWICE = _gzip(BOMB)  # the same, gzip over gzip: about 10 kB on the wire


def bomb(content_encoding: str) -> Reply:
    body = BOMB_TWICE if content_encoding == "gzip, gzip" else BOMB
    return Reply(200, (*JSON, ("Content-Encoding", content_encoding)), body)


def trickled_headers(request: Received, index: int) -> Action:
    """The status line and headers one byte a second."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
    return Raw((bytes([byte]) for byte in head), interval=1.0)


def endless_processing(request: Received, index: int) -> Action:
    """`102 Processing`, twenty a second, for ever."""
    return Raw(itertools.repeat(b"HTTP/1.1 102 Processing\r\n\r\n"), interval=0.05)


def slow_body(request: Received, index: int) -> Action:
    """Headers at once, then a body of 1000 bytes, four bytes a second."""
    body = orjson.dumps({"pad": "x" * 980})
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}" \
           "\r\n\r\n".encode()
    return Raw(itertools.chain([head], (body[i:i + 1] for i in range(len(body)))), interval=0.25)


# --- the client alone ---------------------------------------------------------------------------

def _send(server_url: str, **settings: Any) -> tuple[Exchange, float]:
    options = {"request_timeout": REQUEST_TIMEOUT, "allow_writes": True, **settings}
    with open_client(live_settings(server_url, **options), base_url=server_url,
                     token=TOKEN) as client:
        started = time.monotonic()
        exchange = convert(client, {"altId": LOCATION})
        return exchange, time.monotonic() - started


@pytest.mark.parametrize(("behaviour", "said"), [
    pytest.param(trickled_headers, "no status line and headers came within 1 s", id="trickle"),
    pytest.param(endless_processing, "no status line and headers came within 1 s",
                 id="endless-102"),
])
def test_headers_end_by_the_header_deadline(behaviour: Behaviour, said: str) -> None:
    with serve(behaviour) as server:
        exchange, elapsed = _send(server.url, header_timeout=1.0)
    [fault] = exchange.faults
    assert (fault.rule, exchange.status) == ("outcome-unknown", None)
    assert said in fault.message
    assert elapsed < 1.0 + 1.0


@pytest.mark.parametrize("behaviour", [trickled_headers, endless_processing, slow_body],
                         ids=["trickle", "endless-102", "slow-body"])
def test_the_run_deadline_cuts_an_exchange_short(behaviour: Behaviour) -> None:
    with serve(behaviour) as server:
        exchange, elapsed = _send(server.url, request_timeout=30.0, header_timeout=30.0,
                                  run_timeout=1.5)
    [fault] = exchange.faults
    assert fault.rule in ("outcome-unknown", "timeout")
    assert elapsed < 1.5 + 1.0


def test_a_slow_body_ends_by_the_request_deadline() -> None:
    with serve(slow_body) as server:
        exchange, elapsed = _send(server.url)
    [fault] = exchange.faults
    assert (fault.rule, fault.status) == ("timeout", 200)
    assert fault.message.startswith("The body did not arrive whole within 2 s.")
    assert elapsed < REQUEST_TIMEOUT + 1.0


@pytest.mark.parametrize("content_encoding", ["gzip", "gzip, gzip", "x-gzip"])
def test_a_decompression_bomb_stops_at_the_decoded_cap(content_encoding: str) -> None:
    cap = 2**20
    with serve(lambda request, index: bomb(content_encoding)) as server:
        exchange, _ = _send(server.url, max_decoded_body=cap)
    [fault] = exchange.faults
    assert (fault.rule, fault.status) == ("body-too-large", 200)
    assert "--max-decoded-body" in fault.message
    assert len(exchange.response_body) <= cap


def test_a_wire_body_over_the_raw_cap_stops_there() -> None:
    with serve(lambda request, index: bomb("gzip")) as server:
        exchange, _ = _send(server.url, max_body=64 * 1024, max_decoded_body=2**40)
    [fault] = exchange.faults
    assert fault.rule == "body-too-large"
    assert "--max-body" in fault.message


@pytest.mark.parametrize("content_encoding", ["gzip", "gzip, gzip", "deflate", "identity"])
def test_an_honest_compressed_body_is_read_whole(content_encoding: str) -> None:
    text = example_path("response-200").read_bytes()
    body = {"gzip": gzip.compress(text), "gzip, gzip": _gzip(gzip.compress(text)),
            "deflate": zlib.compress(text), "identity": text}[content_encoding]
    reply = Reply(200, (*JSON, ("Content-Encoding", content_encoding)), body)
    with serve(lambda request, index: reply) as server:
        exchange, _ = _send(server.url)
    assert exchange.faults == ()
    assert exchange.response_body == text


def test_an_encoding_the_client_did_not_ask_for_is_undecodable() -> None:
    reply = Reply(200, (*JSON, ("Content-Encoding", "br")), b"\x1b\x00\x00")
    with serve(lambda request, index: reply) as server:
        exchange, _ = _send(server.url)
    [fault] = exchange.faults
    assert (fault.rule, fault.status) == ("not-json", 200)
    assert "br" in fault.message


# --- whole runs ---------------------------------------------------------------------------------

def _documented_answer() -> bytes:
    return example_path("response-200").read_bytes()


def _with_token_forms(answer: bytes) -> bytes:
    """The documented answer with the token in every form where a finding shows it: a number
    turned string (type-changed, its value in the finding), an undocumented field named after it
    (property-added, in the pointer), the invoice's name (its value)."""
    document = orjson.loads(answer)
    document["invoice"]["total"] = "TOTAL"
    document["invoice"]["FIELD"] = "VALUE"
    text = orjson.dumps(document).decode()
    return (text.replace('"TOTAL"', json.dumps(FORMS["json-dotnet"]).replace("\\\\", "\\"))
            .replace('"FIELD"', f'"x{FORMS["json-every-char"]}"')
            .replace('"VALUE"', f'"{FORMS["json-slash"]} {FORMS["percent-lower"]} '
                                f'{FORMS["xml-hex"]} {FORMS["markdown"].replace(chr(92), "")}"')
            .encode())


@dataclass
class Echo:
    """Echoes the token back in each of its forms: in the body (the documented answer, drifted
    where the token sits; a 422 with it in the message), in Location with lower-case %2b, in a
    header of each form."""

    requests: list[str] = field(default_factory=list)

    def __call__(self, request: Received, index: int) -> Action:
        self.requests.append(request.path)
        headers = (("Location", f"/invoices/x?token={FORMS['percent-lower']}"),
                   *((f"X-Echo-{name}", form) for name, form in FORMS.items()
                     if form.isascii()))
        if index % 2:
            message = json.dumps(f"Token {TOKEN} refused").replace("+", "\\u002B")
            return Reply(422, (*JSON, *headers), (
                f'{{"statusCode": 422, "message": [{message}], "error": "Unprocessable Entity",'
                f' "traceId": "{FORMS["xml-decimal"]}"}}').encode())
        return Reply(200, (*JSON, *headers), _with_token_forms(_documented_answer()))


@dataclass
class CreatesThen429:
    """A lying server: every POST creates an invoice, and most are answered 429 (Retry-After 0)."""

    created: int = 0

    def __call__(self, request: Received, index: int) -> Action:
        if request.method == "POST":
            self.created += 1
        if index % 4 == 3:
            return Reply(200, JSON, _documented_answer())
        return json_reply(429, {"statusCode": 429, "message": "Too many requests"},
                          (("Retry-After", "0"),))


PREFLIGHT = pinned().manifest.preflight
assert PREFLIGHT is not None
PREFLIGHT_PATH = PREFLIGHT.path
LISTING = json_reply(200, {"estimates": [], "total": 0, "traceId": "t-preflight"})


def hostile_after_preflight(behaviour: Behaviour) -> Behaviour:
    """`behaviour` for every request but the run's preflight read (a GET of the listing), which
    gets an honest answer: what is tested is how the run bears a hostile answer to its tests."""
    def answer(request: Received, index: int) -> Action:
        if request.method == "GET" and request.path.startswith(PREFLIGHT_PATH):
            return LISTING
        return behaviour(request, index)
    return answer


def _run(url: str, tmp_path: Path, *extra: str) -> tuple[SuiteRun, float, Path]:
    record = tmp_path / "recording"
    started = time.monotonic()
    run = run_suite("--base-url", url, "--token", TOKEN, "--location-id", LOCATION,
                    "--estimate-id", ESTIMATE, "--allow-writes", "--max-writes", "40",
                    "--request-timeout", f"{REQUEST_TIMEOUT:g}",
                    "--run-timeout", f"{RUN_TIMEOUT:g}", "--max-examples", "3",
                    "--hypothesis-profile", "ci", "--record", str(record), *extra,
                    report_dir=tmp_path / "reports")
    return run, time.monotonic() - started, record


def _artifacts(run: SuiteRun, *directories: Path) -> Iterator[tuple[str, str]]:
    yield "stdout", run.stdout
    yield "stderr", run.stderr
    for directory in directories:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                yield path.name, path.read_text(encoding="utf-8", errors="replace")


def _judged(run: SuiteRun, record: Path, elapsed: float) -> dict[str, Any]:
    """What every hostile run must show: bounded time, no traceback, no token, its reports."""
    artifacts = dict(_artifacts(run, run.report_dir, record))
    assert elapsed < RUN_TIMEOUT + SLACK, run.output
    assert {"junit.xml", "drift-report.json", "drift-report.md", "exchanges.har"} <= set(
        artifacts), run.output
    for name, text in artifacts.items():
        assert "Traceback" not in text, (name, text[-2000:])
        assert leaks(text) == [], name
    return run.report()


def _rules(report: dict[str, Any]) -> set[str]:
    return {finding["rule"] for finding in report["findings"]}


HOSTILE_RUNS = [
    pytest.param(trickled_headers, "outcome-unknown", id="headers-one-byte-a-second"),
    pytest.param(endless_processing, "outcome-unknown", id="endless-102-processing"),
    pytest.param(slow_body, "timeout", id="slow-body"),
    pytest.param(lambda request, index: bomb("gzip"), "body-too-large", id="gzip-bomb"),
    pytest.param(lambda request, index: bomb("gzip, gzip"), "body-too-large",
                 id="gzip-gzip-bomb"),
]


@pytest.mark.parametrize(("behaviour", "rule"), HOSTILE_RUNS)
def test_a_run_against_a_hostile_server_ends_in_time_and_says_why(
        behaviour: Behaviour, rule: str, tmp_path: Path) -> None:
    with serve(hostile_after_preflight(behaviour)) as server:
        run, elapsed, record = _run(server.url, tmp_path, "--max-decoded-body", "1MiB",
                                    "--max-recorded-body", "64KiB")
    report = _judged(run, record, elapsed)
    assert run.code == 1, run.output
    assert rule in _rules(report)
    har = json.loads((record / "exchanges.har").read_text(encoding="utf-8"))
    assert all(len(e["response"]["content"]["text"]) <= 64 * 1024 * 4 // 3 + 4
               for e in har["log"]["entries"])  # base64 of at most 64 KiB


def test_a_server_echoing_the_token_in_every_form_leaks_it_nowhere(tmp_path: Path) -> None:
    echo = Echo()
    with serve(echo) as server:
        run, elapsed, record = _run(server.url, tmp_path, "--strict-drift",
                                    "--rate-limit", "1000/1s")
    report = _judged(run, record, elapsed)
    assert run.code == 1, run.output
    assert len(echo.requests) > 5  # the echoes did come back, many times
    assert {"type-changed", "property-added", "unexpected-status"} <= _rules(report)
    assert "<redacted>" in (run.report_dir / "drift-report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("cap", [1, 3])
def test_a_server_that_creates_and_answers_429_gets_at_most_max_writes(
        cap: int, tmp_path: Path) -> None:
    lying = CreatesThen429()
    with serve(hostile_after_preflight(lying)) as server:
        run, elapsed, record = _run(server.url, tmp_path, "--max-writes", str(cap))
    _judged(run, record, elapsed)
    assert lying.created <= cap, run.output
    assert lying.created == cap  # the budget was spent, not skipped: the run did try


def test_a_429_the_run_cannot_honour_stops_it_at_once(tmp_path: Path) -> None:
    wait = json_reply(429, {"statusCode": 429, "message": "Too many requests"},
                      (("Retry-After", "3600"),))
    with serve(hostile_after_preflight(lambda request, index: wait)) as server:
        run, elapsed, record = _run(server.url, tmp_path)
        sent = [request for request in server.requests
                if not request.path.startswith(PREFLIGHT_PATH)]  # the listings get answers
    report = _judged(run, record, elapsed)
    assert run.code == 1, run.output
    assert len(sent) == 1  # nothing more went to the target after its first 429
    assert "rate-limited" in _rules(report)
    # The next test failed at once with the reason, and the run stopped there.
    assert "nothing more is sent to it" in run.stdout
    assert "The run's deadline" not in run.stdout
