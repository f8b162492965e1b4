"""HAR recording: redacted, bounded HAR 1.2 that `check` reads back, whole after every entry."""

from __future__ import annotations

import base64
import fcntl
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest

from ghl_contract.errors import UsageError
from ghl_contract.readers.har import read_har
from ghl_contract.readers.items import Note, Parameters, Payload
from ghl_contract.redact import redactor
from ghl_contract.registry import pinned
from ghl_contract.transport import Exchange, open_client
from ghl_contract.transport.recording import FILE_NAME, HarRecorder, har_entry
from ghl_contract.transport.testing import (
    ESTIMATE_ID,
    TOKEN,
    Action,
    Drop,
    Received,
    Reply,
    convert,
    invoice_reply,
    json_reply,
    live_settings,
    serve,
)

BODY = {"altId": "loc-1", "altType": "location"}


def _entries(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["log"]["entries"]
    return entries


def mixed(request: Received, index: int) -> Action:
    """200, 422, a dropped connection, then a body that is not UTF-8."""
    return [
        invoice_reply(index),
        json_reply(422, {"statusCode": 422, "message": ["altId must be a string"],
                         "error": "Unprocessable Entity", "traceId": "trace-422"}),
        Drop(),
        Reply(200, (("Content-Type", "application/octet-stream"),), b"\xff\xfe\x00binary"),
    ][index % 4]


def test_har_is_whole_after_every_entry_and_complete(tmp_path: Path) -> None:
    counts = []
    with serve(mixed) as server, open_client(
        live_settings(server.url, allow_writes=True, record_dir=tmp_path), base_url=server.url,
        token=TOKEN,
    ) as client:
        for body in (BODY, {"altId": 5}, BODY, BODY):
            convert(client, body, note={"test": "t::x"})
            counts.append(len(_entries(tmp_path / FILE_NAME)))  # while the client is open
    har = json.loads((tmp_path / FILE_NAME).read_text(encoding="utf-8"))
    assert counts == [1, 2, 3, 4]
    assert (har["log"]["version"], har["log"]["creator"]["name"]) == ("1.2", "ghl-contract")
    ok, invalid, dropped, binary = har["log"]["entries"]
    assert ok["request"]["method"] == "POST"
    assert ok["request"]["url"] == f"{server.url}/invoices/estimate/{ESTIMATE_ID}/invoice"
    assert json.loads(ok["request"]["postData"]["text"]) == BODY
    assert ok["request"]["postData"]["mimeType"] == "application/json"
    sent = {h["name"]: h["value"] for h in ok["request"]["headers"]}
    assert (sent["authorization"], sent["version"]) == ("Bearer <redacted>", "2021-07-28")
    assert ok["response"]["status"] == 200
    assert ok["response"]["content"]["mimeType"] == "application/json"
    assert json.loads(ok["response"]["content"]["text"])["invoice"]["_id"] == "inv-0"
    assert {"name": "content-type", "value": "application/json"} in ok["response"]["headers"]
    assert (invalid["response"]["status"], invalid["_faults"]) == (422, [])
    assert dropped["response"]["status"] == 0
    assert [f["rule"] for f in dropped["_faults"]] == ["outcome-unknown"]
    assert [(e["_write"], e["_ghl"]) for e in har["log"]["entries"]] == [
        (True, {"test": "t::x"})] * 4
    assert binary["response"]["content"]["encoding"] == "base64"
    assert binary["_faults"] == []  # a body that arrived whole is judged later, not recorded


def test_check_reads_the_recording_back(tmp_path: Path) -> None:
    with serve(mixed) as server, open_client(
        live_settings(server.url, allow_writes=True, record_dir=tmp_path), base_url=server.url,
        token=TOKEN,
    ) as client:
        convert(client, BODY)
        convert(client, {"altId": 5}, note={"expect": [400, 422], "intent": "invalid"})
        convert(client, BODY)
    items = list(read_har(tmp_path / FILE_NAME, "exchanges.har", pinned().manifest))
    payloads = [item for item in items if isinstance(item, Payload)]
    # The request meant to be refused is judged by its answer, not against the request schema.
    assert [(p.kind, p.status) for p in payloads] == [
        ("request", None), ("response", 200), ("error", 422), ("request", None)]
    assert payloads[2].expect is not None
    assert 422 in payloads[2].expect
    assert orjson.loads(payloads[1].raw or b"")["invoice"]["_id"] == "inv-0"
    assert payloads[1].request == BODY
    assert payloads[1].path == {"estimateId": ESTIMATE_ID}
    # The parameters of the two requests meant to be accepted are judged too, headers included.
    parameters = [item for item in items if isinstance(item, Parameters)]
    assert [(p.path, p.query, (p.headers or {}).get("version")) for p in parameters] == [
        ({"estimateId": ESTIMATE_ID}, {}, "2021-07-28")] * 2
    assert [type(item) for item in items if not isinstance(item, Payload | Parameters)] == [Note]


CRASHING_RUN = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from ghl_contract.transport import open_client
    from ghl_contract.transport.testing import TOKEN, convert, live_settings
    url, record_dir = sys.argv[1], Path(sys.argv[2])
    settings = live_settings(url, allow_writes=True, record_dir=record_dir)
    with open_client(settings, base_url=url, token=TOKEN) as client:
        convert(client, {"altId": "loc-1"})
        convert(client, {"altId": "loc-1"})
        os._exit(3)  # killed mid-run: no close, no flush, no atexit
""")


def test_a_run_killed_mid_way_leaves_a_readable_recording(tmp_path: Path) -> None:
    with serve(lambda request, index: invoice_reply(index)) as server:
        done = subprocess.run([sys.executable, "-c", CRASHING_RUN, server.url, str(tmp_path)],
                              capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (3, "")
    entries = _entries(tmp_path / FILE_NAME)
    assert [e["response"]["status"] for e in entries] == [200, 200]
    assert TOKEN not in (tmp_path / FILE_NAME).read_text(encoding="utf-8")


def test_clients_can_share_one_recording(tmp_path: Path) -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, \
            HarRecorder(tmp_path, (TOKEN,)) as recorder:
        settings = live_settings(server.url, allow_writes=True)
        with open_client(settings, base_url=server.url, token=TOKEN,
                         on_exchange=[recorder]) as first, \
                open_client(settings, base_url=server.url, token=TOKEN,
                            on_exchange=[recorder]) as second:
            convert(first, BODY)
            convert(second, BODY)
            convert(first, BODY)
    entries = _entries(tmp_path / FILE_NAME)
    assert [json.loads(e["response"]["content"]["text"])["invoice"]["_id"] for e in entries] == [
        "inv-0", "inv-1", "inv-2"]


def test_a_body_longer_than_the_recorded_limit_is_cut_and_says_so(tmp_path: Path) -> None:
    long = Reply(200, (("Content-Type", "text/plain"),), b"z" * 300_000)
    with serve(lambda request, index: long) as server, open_client(
        live_settings(server.url, allow_writes=True, record_dir=tmp_path,
                      max_recorded_body=1000), base_url=server.url, token=TOKEN,
    ) as client:
        exchange = convert(client, {"altId": "x" * 5000})
    [entry] = _entries(tmp_path / FILE_NAME)
    content, post = entry["response"]["content"], entry["request"]["postData"]
    assert len(exchange.response_body) == 300_000  # the run read it whole; the record is short
    assert (content["size"], content["_cut"], len(content["text"])) == (300_000, True, 1000)
    assert "Cut at 1000 of 300000 bytes" in content["comment"]
    assert (post["_cut"], len(post["text"])) == (True, 1000)
    assert (tmp_path / FILE_NAME).stat().st_size < 10_000


def test_a_body_of_control_characters_is_recorded_as_base64() -> None:
    """JSON writes each as \\u0000: six times the body's size, where base64 takes four thirds."""
    entry = har_entry(Exchange("POST", "http://h/x", {}, b"", 200, {}, b"\0" * 3000, 0.0, (),
                               True), redactor(()), max_body=1000)
    content = entry["response"]["content"]
    assert (content["encoding"], base64.b64decode(content["text"])) == ("base64", b"\0" * 1000)


def test_unwritable_record_dir_is_a_usage_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="--record"), open_client(
            live_settings("http://127.0.0.1:9", record_dir=not_a_dir),
            base_url="http://127.0.0.1:9", token=TOKEN):
        pass


def test_a_file_another_run_writes_is_left_alone(tmp_path: Path) -> None:
    busy = tmp_path / FILE_NAME
    with busy.open("wb") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)  # as another run recording there would
        with pytest.raises(UsageError, match="another run is writing"), open_client(
                live_settings("http://127.0.0.1:9", record_dir=tmp_path),
                base_url="http://127.0.0.1:9", token=TOKEN):
            pass
    assert busy.read_bytes() == b""
