"""HAR 1.2 files (a browser's export, or `run --record`): each exchange judged by its own operation.

Each entry whose method and URL path match an operation of the manifest gives its request body
(when the operation takes one) and its response, judged by that operation's contract: the status,
the body as it travelled, the schema of that status, the invariants (with what was sent: the JSON
body, or the query of a request without one) and the rate-limit headers. Entries of no known
operation are skipped and counted in a note. A browser's capture holds every host the application
talked to: with a base URL (`check --base-url`), only entries under it are judged, their paths read
from that base (the application's own API, whose paths may end as HighLevel's do, is then not
judged); without one, a path may carry a base before the operation's own (a gateway's `/v1`), and
a note names the hosts judged when there are several. A recording made by `ghl-contract run
--record` says which requests were meant to be refused (`_ghl.expect`): those are judged by
whether the server refused them, not against the request contract. A HAR file is one JSON
document, so it is read whole (at most `settings.MAX_DOCUMENT_BYTES`); large captures stream as
NDJSON.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from ghl_contract.judge import expect
from ghl_contract.operations import Manifest, Operation
from ghl_contract.readers.document import not_json, read_whole, too_many_values
from ghl_contract.readers.items import Item, Limits, Note, Parameters, Payload, Problem

# The key under which `run --record` notes what the run meant by a request (HAR custom fields
# start with an underscore).
ANNOTATION = "_ghl"


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


def _headers(recorded: Any) -> dict[str, str] | None:
    if not isinstance(recorded, list) or not recorded:
        return None  # not recorded: nothing to say about them
    return {str(h.get("name", "")).lower(): str(h.get("value", ""))
            for h in recorded if isinstance(h, dict)}


def _under(base: str | None) -> tuple[str, str, str] | None:
    """A base URL as (scheme, host, path without its trailing slash), compared case-blind."""
    if base is None:
        return None
    parts = urlsplit(base)
    return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")


def _route(url: Any, base: tuple[str, str, str] | None) -> tuple[str, str] | None:
    """(host, path to match) of an entry's URL; None when it is not under `base`."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if base is None:
        return parts.netloc.lower(), parts.path
    scheme, host, prefix = base
    if (parts.scheme.lower(), parts.netloc.lower()) != (scheme, host) or not (
            parts.path == prefix or parts.path.startswith(prefix + "/")):
        return None
    return host, parts.path[len(prefix):]


def read_har(path: Path, name: str, manifest: Manifest,
             limits: Limits | None = None, base_url: str | None = None) -> Iterator[Item]:
    """The items of a HAR file; `base_url`: judge only the entries under it (see above)."""
    limits = limits or Limits()
    base = _under(base_url)
    text = read_whole(path, name, limits.document)
    if isinstance(text, Problem):
        yield text
        return
    crowded = too_many_values(name, text, limits.values)
    if crowded:  # the values of its JSON bodies count too: they are JSON text in it
        yield Problem(crowded)
        return
    try:
        har = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        yield Problem(not_json(name, exc, f"line {exc.lineno} column {exc.colno}"))
        return
    del text
    log = har.get("log") if isinstance(har, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        yield Problem(f"{name} is not a HAR file: it has no log.entries list.")
        return
    del har, log  # only the entries are needed from here on
    skipped = elsewhere = 0
    hosts: dict[str, None] = {}  # the hosts of judged entries, in order
    for number, entry in enumerate(entries, 1):
        where = f"{name}#entry {number}"
        request = entry.get("request") if isinstance(entry, dict) else None
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            yield Problem(f"{where} is not a HAR entry with a request and a response.")
            continue
        route = _route(request.get("url"), base)
        if route is None:  # not under the base URL, or no URL at all
            if base is not None:
                elsewhere += 1
            else:
                skipped += 1
            continue
        host, route_path = route
        matched = manifest.match(str(request.get("method", "")), route_path, based=base is None)
        if matched is None:
            skipped += 1
            continue
        hosts[host] = None
        operation, parameters = matched
        annotation = entry.get(ANNOTATION)
        yield from _exchange(where, operation, parameters, request, response,
                             annotation if isinstance(annotation, dict) else {}, limits.values)
    if elsewhere:
        yield Note(f"{name}: {_entries(elsewhere)} not under {base_url} skipped.")
    if skipped:
        yield Note(f"{name}: {_entries(skipped)} of no known operation skipped.")
    if len(hosts) > 1:
        yield Note(f"{name}: entries of {len(hosts)} hosts were judged ({', '.join(hosts)}); "
                   "--base-url URL judges only those of one API.")


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _exchange(where: str, operation: Operation, parameters: dict[str, str],
              request: dict[str, Any], response: dict[str, Any],
              annotation: Mapping[str, Any], values: int) -> Iterator[Item]:
    post = request.get("postData")
    sent = _body(post, post.get("_encoding")) if isinstance(post, dict) else None
    # a body recorded in base64 was not counted with the file's text
    crowded = too_many_values(f"{where} request", sent or b"", values)
    if crowded:
        yield Problem(crowded)
        return
    statuses = annotation.get("expect")
    expected = expect(statuses) if isinstance(statuses, list) and statuses and all(
        isinstance(s, int) for s in statuses) else None
    url = request.get("url")
    if expected is None:
        # A request meant to be refused breaks the request contract on purpose: it is judged by
        # the answer it got, below.
        yield Parameters(operation, f"{where} request", parameters,
                         dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
                         if isinstance(url, str) else {}, _headers(request.get("headers")))
    if operation.request is not None and expected is None:
        yield Payload(None, "request", f"{where} request", raw=sent or b"", operation=operation,
                      content_type=post.get("mimeType") if isinstance(post, dict) else None)
    status = response.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or status <= 0:
        # browsers record an aborted or blocked request with status 0 and no response
        yield Note(f"{where}: no response was recorded; only its request was checked.")
        return
    content = response.get("content")
    content = content if isinstance(content, dict) else {}
    received = _body(content, content.get("encoding"))
    if received is None and (200 <= status < 300 or 400 <= status < 500):
        # the contract documents this body, and the capture lacks it: not the API's fault
        yield Problem(f"{where} response: its body was not recorded (no content.text, or "
                      "base64 that does not decode).")
        return
    crowded = too_many_values(f"{where} response", received or b"", values)
    if crowded:
        yield Problem(crowded)
        return
    what: Any
    try:
        what = orjson.loads(sent) if sent else None
    except orjson.JSONDecodeError:
        what = None
    if what is None and not sent:
        # A request without a body says what it sends in its query (altId, altType...).
        what = dict(parse_qsl(urlsplit(url).query)) if isinstance(url, str) else None
    mime = content.get("mimeType")
    yield Payload(None, "response" if 200 <= status < 300 else "error", f"{where} response",
                  status, raw=received or b"",
                  content_type=mime if isinstance(mime, str) and mime else None,
                  request=what, path=parameters, operation=operation,
                  headers=_headers(response.get("headers")), expect=expected)
