"""The HTTP client every request of a contract run goes through.

`Client.request(operation, ...)` sends one request of a manifest operation and returns an
`Exchange`: method and path from the operation, the body as JSON (bytes as they are), the
defaults and the caller's header overrides. It knows no endpoint and no domain. Around the wire
(`wire.py`, deadlines on every read and write) sit two httpx transports: the write budget
(`budget.py`) and the rate limit with its retries (`ratelimit.py`). The body is read within the
size limits (`limits.py`). Whatever the server does ends in `Exchange.faults`, never in an
exception; the hooks (`on_exchange`: the HAR recording, the run's record of what it created) see
every exchange, redacted. A `before_request` hook is called before a request is sent (the run's
write-ahead ledger); what it returns is called with the exchange once complete, or with None when
nothing was sent after all.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import httpx
import orjson

from ghl_contract import __version__
from ghl_contract.findings import Finding
from ghl_contract.operations import Operation
from ghl_contract.redact import ACTIVE_SECRETS, install_log_filter, redactor
from ghl_contract.transport import faults
from ghl_contract.transport.budget import NOT_SENT, BudgetTransport, WriteBudget
from ghl_contract.transport.exchange import NO_BODY, Exchange
from ghl_contract.transport.limits import ACCEPT_ENCODING, Body, Limits, read_body
from ghl_contract.transport.passage import EXTENSION, Passage
from ghl_contract.transport.ratelimit import RateLimiter, RateLimitTransport
from ghl_contract.transport.refusals import RunDeadlineExceeded, SendingStopped, WriteSkipped
from ghl_contract.transport.wire import WireTransport

ExchangeHook = Callable[[Exchange], None]
# (operation, path parameters, body as given) -> what to call with the exchange, or None
RequestHook = Callable[[Operation, Mapping[str, str], Any],
                       Callable[[Exchange | None], None] | None]
_LOOPBACK_HOSTS = {"localhost", "::1", "[::1]"}


def _encode_json(body: Any) -> bytes:
    try:
        return orjson.dumps(body)
    except TypeError:
        # Integers beyond 64 bits, non-string keys and lone surrogates are what generated bodies
        # contain and orjson refuses; the standard library writes them (surrogates as escapes).
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def _is_loopback(host: str) -> bool:
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


def _proxy_for(url: httpx.URL) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, NO_PROXY ...); none for
    loopback. Chosen here, once: the client's own transports must carry every request."""
    if _is_loopback(url.host) or urllib.request.proxy_bypass(url.host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(url.scheme) or proxies.get("all")


class Client:
    """Sends a run's requests (see the module docstring). A context manager.

    `run_timeout`: seconds from `started` (on `clock`; default now) to the run's deadline, after
    which nothing is sent.
    `secrets`: values to redact besides the token (the embedded mock's other tokens).
    """

    def __init__(self, base_url: str, *, token: str | None, api_version: str,
                 limits: Limits | None = None, budget: WriteBudget | None = None,
                 rate_limit: tuple[int, float] | None = None, run_timeout: float = 600.0,
                 started: float | None = None,
                 secrets: Iterable[str | None] = (), on_exchange: Iterable[ExchangeHook] = (),
                 before_request: Iterable[RequestHook] = (),
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.limits = limits or Limits()
        self.run_timeout = run_timeout
        self.budget = budget or WriteBudget()
        self._token = token
        self._secrets = tuple(dict.fromkeys(s for s in (token, *secrets) if s))
        self._redact = redactor(self._secrets)
        self._hooks = tuple(on_exchange)
        self._before = tuple(before_request)
        self._clock = clock
        self.deadline = (clock() if started is None else started) + run_timeout
        url = httpx.URL(self.base_url)
        self._wire = WireTransport(self.limits, self.time_left, proxy=_proxy_for(url),
                                   trust_env=not _is_loopback(url.host))
        self._paced = RateLimitTransport(
            BudgetTransport(self._wire, self.budget), RateLimiter(rate_limit, clock),
            self.budget, self.time_left, clock=clock, sleep=sleep)
        # The environment's proxies are chosen above: httpx would otherwise mount transports of
        # its own for them, around which no budget and no deadline would hold.
        self._http = httpx.Client(
            transport=self._paced, timeout=self.limits.request_timeout, follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": f"ghl-contract/{__version__}",
                     "Accept-Encoding": ACCEPT_ENCODING},
        )
        install_log_filter()
        for secret in self._secrets:
            ACTIVE_SECRETS.add(secret)
        self._closed = False

    def __repr__(self) -> str:
        return f"<Client {self.base_url}>"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        if self._closed:
            return
        self._closed = True
        self._http.close()
        for secret in self._secrets:
            ACTIVE_SECRETS.remove(secret)

    # The run's state.

    def time_left(self) -> float:
        """Seconds until the run's deadline (--run-timeout); 0 or less once it has passed."""
        return self.deadline - self._clock()

    def write_refusal(self) -> str | None:
        """Why the budget allows no write now (a sentence for a skip), or None."""
        return self.budget.refusal()

    @property
    def stopped(self) -> str | None:
        """Why nothing more is sent to the target (a 429 it could not honour), or None."""
        return self._paced.stopped

    @property
    def stats(self) -> dict[str, int]:
        return {"requests": self._wire.sent, "writes": self.budget.used,
                "retries": self._paced.retries, "rate_limit_waits": self._paced.waits,
                "skipped_writes": self.budget.refused}

    # Sending.

    def default_headers(self, with_body: bool) -> dict[str, str]:
        headers = {"Version": self.api_version, "Accept": "application/json"}
        if with_body:
            headers["Content-Type"] = "application/json"
        if self._token:
            headers = {"Authorization": f"Bearer {self._token}", **headers}
        return headers

    def request(self, operation: Operation, *, path: Mapping[str, str] | None = None,
                query: Mapping[str, str] | None = None, body: Any = NO_BODY,
                headers: Mapping[str, str | None] | None = None,
                note: Mapping[str, Any] | None = None) -> Exchange:
        """Send one request of `operation`; the server's misbehaviour is in `Exchange.faults`.

        `path`: the path parameters' values. `body`: bytes are sent as they are, NO_BODY sends
        none, anything else is JSON. `headers` override the defaults (Authorization, Version,
        Accept, Content-Type with a body); None removes one. `note`: the caller's annotation,
        kept on the exchange and in the HAR recording.

        Raises WriteSkipped (the budget forbids this write), SendingStopped (the run's deadline
        has passed, or the target asked for a wait past it), ValueError (a header or URL that
        cannot be sent) and UsageError (a path parameter missing); nothing else.
        """
        if self._closed:
            raise RuntimeError("This transport client is closed.")
        if self.time_left() <= 0:
            raise RunDeadlineExceeded(
                f"The run's deadline of {self.run_timeout:g} s (--run-timeout) has passed; no "
                "further request is sent.")
        values = dict(path or {})
        content = b"" if body is NO_BODY else body if isinstance(body, bytes) else \
            _encode_json(body)
        passage = Passage(writes=operation.writes)
        request = self._build(operation, values, query, content, body is not NO_BODY,
                              headers or {}, passage)
        after = [settle for hook in self._before
                 if (settle := hook(operation, values, body)) is not None]
        started_at, started = time.time(), self._clock()
        with passage.current():
            response: httpx.Response | None = None
            sent = True
            try:
                response = self._http.send(request, stream=True)
            except (WriteSkipped, SendingStopped):
                for settle in after:
                    settle(None)
                raise
            except httpx.LocalProtocolError as exc:
                # Our own request is malformed (a header h11 refuses): the caller's mistake.
                for settle in after:
                    settle(None)
                raise ValueError(f"The request cannot be sent: {self._redact.text(str(exc))}") \
                    from None
            except httpx.TransportError as exc:
                answer, sent = Body(error=exc), not isinstance(exc, NOT_SENT)
            else:
                try:
                    answer = read_body(response, self.limits)
                finally:
                    response.close()
        exchange = self._exchange(operation, request, response, answer, passage, sent=sent,
                                  elapsed=self._clock() - started, started_at=started_at,
                                  path=values, query=dict(query or {}), note=note)
        for settle in after:
            settle(exchange)
        for hook in self._hooks:
            hook(exchange)
        return exchange

    def _build(self, operation: Operation, path: Mapping[str, str],
               query: Mapping[str, str] | None, content: bytes, with_body: bool,
               overrides: Mapping[str, str | None], passage: Passage) -> httpx.Request:
        chosen = self.default_headers(with_body)
        removed: set[str] = set()
        for name, value in overrides.items():
            for existing in [key for key in chosen if key.lower() == name.lower()]:
                del chosen[existing]
            if value is None:
                removed.add(name.lower())
            else:
                chosen[name] = value
        try:
            request = self._http.build_request(
                operation.method, self.base_url + operation.expand(path), params=query,
                content=content,
                headers={k.encode("utf-8"): v.encode("utf-8") for k, v in chosen.items()},
                extensions={EXTENSION: passage},
            )
        except (ValueError, httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ValueError(f"The request cannot be built: {self._redact.text(str(exc))}") \
                from None
        for name in removed:  # also the client's own defaults (Accept, User-Agent ...)
            if name in request.headers and name not in ("host", "content-length"):
                del request.headers[name]
        return request

    def _exchange(self, operation: Operation, request: httpx.Request,
                  response: httpx.Response | None, answer: Body, passage: Passage, *,
                  sent: bool, elapsed: float, started_at: float, path: dict[str, str],
                  query: dict[str, str], note: Mapping[str, Any] | None) -> Exchange:
        redact = self._redact
        status = response.status_code if response is not None else None
        received = httpx.Headers(redact.headers(response.headers.multi_items())) \
            if response is not None else httpx.Headers()
        body = redact.bytes(answer.data)
        found: list[Finding] = []
        if answer.error is not None:
            cause = redact.text(str(answer.error) or type(answer.error).__name__)
            found.append(faults.no_answer(answer.error, passage, sent=sent, status=status,
                                          cause=cause))
        elif status is not None and answer.over is not None:
            found.append(faults.over_limit(status, answer.over))
        elif status == 429 and passage.gave_up is not None:
            found.append(faults.rate_limited(429, passage.retries, passage.gave_up))
        elif status is not None and answer.undecodable is not None:
            found.append(faults.undecodable(status, received.get("content-encoding"),
                                            answer.undecodable))
        parsed, _ = faults.parse(body) if body and not found else (None, False)
        trace = faults.trace_id(received, body, parsed)
        authorization = request.headers.get("authorization", "")
        return Exchange(
            method=request.method,
            url=redact.text(str(request.url)),
            request_headers=httpx.Headers(redact.headers(request.headers.multi_items())),
            request_body=redact.bytes(request.content),
            status=status,
            response_headers=received,
            response_body=body,
            elapsed=elapsed,
            faults=tuple(f if f.trace_id or trace is None else replace(f, trace_id=trace)
                         for f in found),
            write=passage.writes,
            trace_id=trace,
            attempts=passage.attempts,
            started_at=started_at,
            operation=operation.id,
            path=redact.value(path),
            query=redact.value(query),
            note=redact.value(dict(note)) if note is not None else None,
            authorized=bool(self._token) and str(self._token) in authorization,
        )
