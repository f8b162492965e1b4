"""HAR 1.2 files (a browser's export, or `run --record`): the exchanges of this one operation.

Each entry whose request is a POST to ``.../invoices/estimate/{estimateId}/invoice`` gives two
payloads: the request body (kind ``request``) and the response body, judged by its status (200
as ``response`` together with the request that produced it, any other as ``error``). Other
entries are skipped and counted in a note. A HAR file is one JSON document, so it is read whole;
large captures stream as NDJSON.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from ghl_contract.readers.document import unreadable
from ghl_contract.readers.items import Item, Note, Payload, Problem

OPERATION_PATH = re.compile(r"/invoices/estimate/(?P<estimate_id>[^/]+)/invoice/?$")


def _estimate_id(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    match = OPERATION_PATH.search(urlsplit(url).path)
    return unquote(match.group("estimate_id")) if match else None


def _body(content: Mapping[str, Any], encoding: Any) -> bytes | None:
    text = content.get("text")
    if not isinstance(text, str):
        return None
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None
    return text.encode()


def read_har(path: Path, name: str) -> Iterator[Item]:
    try:
        text = path.read_bytes()
    except OSError as exc:
        yield unreadable(name, exc)
        return
    try:
        har = orjson.loads(text.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        yield Problem(f"{name} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                      f"{exc.colno}).")
        return
    log = har.get("log") if isinstance(har, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        yield Problem(f"{name} is not a HAR file: it has no log.entries list.")
        return
    del har, log  # only the entries are needed from here on
    skipped = 0
    for number, entry in enumerate(entries, 1):
        where = f"{name}#entry {number}"
        request = entry.get("request") if isinstance(entry, dict) else None
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            yield Problem(f"{where} is not a HAR entry with a request and a response.")
            continue
        estimate_id = _estimate_id(request.get("url"))
        if str(request.get("method", "")).upper() != "POST" or estimate_id is None:
            skipped += 1
            continue
        yield from _exchange(where, request, response, estimate_id)
    if skipped:
        yield Note(f"{name}: {skipped} entr{'y' if skipped == 1 else 'ies'} of other operations "
                   "skipped.")


def _exchange(where: str, request: dict[str, Any], response: dict[str, Any],
              estimate_id: str) -> Iterator[Item]:
    post = request.get("postData")
    sent = _body(post, None) if isinstance(post, dict) else None
    yield Payload(None, "request", f"{where} request", raw=sent or b"",
                  content_type=post.get("mimeType") if isinstance(post, dict) else None)
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or status <= 0:
        # browsers record an aborted or blocked request with status 0 and no response
        yield Note(f"{where}: no response was recorded; only its request was checked.")
        return
    content = response.get("content")
    content = content if isinstance(content, dict) else {}
    received = _body(content, content.get("encoding"))
    if received is None and (status == 200 or 400 <= status < 500):
        # the contract documents this body, and the capture lacks it: not the API's fault
        yield Problem(f"{where} response: its body was not recorded (no content.text, or "
                      "base64 that does not decode).")
        return
    try:
        sent_payload = orjson.loads(sent) if sent else None
    except orjson.JSONDecodeError:
        sent_payload = None
    mime = content.get("mimeType")
    yield Payload(None, "response" if status == 200 else "error", f"{where} response", status,
                  raw=received or b"",
                  content_type=mime if isinstance(mime, str) and mime else None,
                  request=sent_payload, estimate_id=estimate_id)
