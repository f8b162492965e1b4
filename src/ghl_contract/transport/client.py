"""The HTTP client every request of a contract run goes through.

It owns what makes a run safe against a live API: the write budget, the rate limiter, bounded
retries on 429, per-request and run deadlines, faults classified into findings instead of raised,
redaction of the token everywhere, and the HAR recording.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from ghl_contract import __version__
from ghl_contract.findings import Finding
from ghl_contract.operations import Operation
from ghl_contract.registry import pinned
from ghl_contract.settings import RunSettings
from ghl_contract.transport import faults as _faults
from ghl_contract.transport.budget import RunDeadlineExceeded, WriteBudget, WriteSkipped
from ghl_contract.transport.ratelimit import MAX_RETRIES, MAX_WAIT, RateLimiter, retry_delay
from ghl_contract.transport.recording import HarRecorder
from ghl_contract.transport.redact import (
    ACTIVE_SECRETS,
    install_log_filter,
    redact,
    redact_bytes,
    redact_headers,
)

log = logging.getLogger("ghl_contract.transport")

REFUSED_RETRY_PAUSE = 0.25  # seconds before the one retry of a refused connection
MAX_BODY = 16 * 1024 * 1024  # bytes read of an answer; this endpoint's answers are a few kB
_LOOPBACK_HOSTS = {"localhost", "::1", "[::1]"}


class Headers(dict[str, str]):
    """Header names in lower case; lookups ignore case, so `h["Authorization"]` works too."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class CreatedInvoice:
    """An invoice a run created (so that it can be voided)."""

    id: str
    number: str | int | None
    estimate_id: str
    location_id: str | None


@dataclass(frozen=True)
class Exchange:
    """One request of the run and what came back, secrets redacted."""

    method: str
    url: str
    request_headers: dict[str, str]  # as sent, lower-case names, Authorization redacted
    request_body: bytes
    status: int | None  # None when no answer came (timeout, connection error)
    response_headers: dict[str, str]  # lower-case names
    response_body: bytes
    elapsed: float  # seconds, from send() to the answer, waits and retries included
    faults: tuple[Finding, ...]  # transport findings; empty when a JSON answer came as JSON
    write: bool  # a POST carrying the run's valid token: it counted against the write budget
    trace_id: str | None = None  # HighLevel's traceId from the body or a trace header
    attempts: int = 1  # requests sent for this exchange (429 retries, one refused-connection retry)
    started_at: float = 0.0  # wall-clock time of send(), seconds since the epoch
    created_invoice: CreatedInvoice | None = None

    def json(self) -> Any:
        """The parsed body; only call it when the body is JSON (no fault, or wrong-content-type
        alone)."""
        return orjson.loads(self.response_body)


@dataclass
class _Attempt:
    """What one request on the wire produced."""

    status: int | None = None
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    error: Exception | None = None
    sent: bool = True  # the request may have reached the server
    undecodable: bool = False  # the Content-Encoding could not be undone


def _encode_json(body: Any) -> bytes:
    try:
        return orjson.dumps(body)
    except TypeError:
        # Integers beyond 64 bits, non-string keys and lone surrogates are what generated bodies
        # contain and orjson refuses; the standard library writes them (surrogates as escapes).
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def _is_loopback(base_url: str) -> bool:
    host = httpx.URL(base_url).host
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


class Client:
    """Sends the run's requests; see the module docstring. A context manager."""

    def __init__(
        self,
        settings: RunSettings,
        *,
        base_url: str,
        token: str | None,
        api_version: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version or settings.api_version
        self._token = token
        self._secrets = tuple({s for s in (token, settings.token) if s})
        self._clock, self._sleep = clock, sleep
        self.deadline = clock() + settings.run_timeout
        self._limiter = RateLimiter(settings.effective_rate_limit, clock)
        self._budget = WriteBudget(live=settings.live, allow_writes=settings.allow_writes,
                                   max_writes=settings.max_writes)
        self._recorder = (HarRecorder(settings.record_dir, self._secrets)
                          if settings.record_dir else None)
        install_log_filter()
        for secret in self._secrets:
            ACTIVE_SECRETS.add(secret)
        # Proxies from the environment are for reaching the internet; loopback goes direct.
        self._http = httpx.Client(
            timeout=settings.request_timeout,
            follow_redirects=False,
            trust_env=not _is_loopback(self.base_url),
            headers={"User-Agent": f"ghl-contract/{__version__}"},
        )
        self._created: list[CreatedInvoice] = []
        self._stats = dict.fromkeys(
            ("requests", "writes", "retries", "rate_limit_waits", "skipped_writes"), 0
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"<Client {self.base_url} live={self.settings.live}>"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections and the HAR recording (which is complete after every entry)."""
        if self._closed:
            return
        self._closed = True
        self._http.close()
        if self._recorder:
            self._recorder.close()
        for secret in self._secrets:
            ACTIVE_SECRETS.remove(secret)

    # The plan and the outcome of the run.

    def expected_writes(self) -> int:
        """Writes the budget still allows (budget.UNLIMITED for the embedded mock)."""
        return self._budget.remaining()

    def write_refusal(self) -> str | None:
        """Why the budget allows no write now (a sentence for a skip), or None."""
        return self._budget.refusal()

    @property
    def created_invoices(self) -> list[CreatedInvoice]:
        return list(self._created)

    @property
    def stats(self) -> dict[str, int]:
        return dict(self._stats)

    @property
    def har_path(self) -> str | None:
        return str(self._recorder.path) if self._recorder else None

    # Sending.

    def url(self, estimate_id: str) -> str:
        operation = pinned().manifest.primary
        return self.base_url + operation.expand({operation.path_names[0]: estimate_id})

    def default_headers(self) -> dict[str, str]:
        headers = {"Version": self.api_version, "Content-Type": "application/json",
                   "Accept": "application/json"}
        if self._token:
            headers = {"Authorization": f"Bearer {self._token}", **headers}
        return headers

    def request(self, operation: Operation, *, path: Mapping[str, str] | None = None,
                query: Mapping[str, str] | None = None, body: bytes | Any = None,
                headers: Mapping[str, str | None] | None = None,
                note: Mapping[str, Any] | None = None) -> Exchange:
        """Send one request of `operation` (its path filled with `path`, `query` appended) and
        collect the answer; every request to an operation that writes is a write."""
        if self._closed:
            raise RuntimeError("This transport client is closed.")
        self._check_deadline()
        content = body if isinstance(body, bytes) else b"" if body is None else _encode_json(body)
        chosen, removed = self._merge_headers(headers or {})
        if body is None:
            chosen.pop("Content-Type", None)
        url = self.base_url + operation.expand(path or {})
        if query:
            url += "?" + urlencode(dict(query))
        write = operation.writes
        if write:
            try:
                self._budget.reserve()
            except WriteSkipped:
                self._stats["skipped_writes"] += 1
                raise
        try:
            return self._send(url, content, chosen, removed, write, method=operation.method,
                              estimate_id=(path or {}).get("estimateId", ""))
        except (RunDeadlineExceeded, ValueError):
            if write:  # both are raised only before the write left
                self._budget.release()
            raise

    def send(self, estimate_id: str, body: bytes | Any = None, *,
             headers: Mapping[str, str | None] | None = None) -> Exchange:
        """POST `body` to the primary operation for `estimate_id`; its faults are in the answer.

        `body`: bytes are sent as they are, None sends no body, anything else is JSON. `headers`
        override the defaults (Authorization, Version, Content-Type, Accept); None removes one.
        Raises WriteSkipped and RunDeadlineExceeded, and ValueError for a header that cannot be
        sent; a server's misbehaviour is never raised, it is in `Exchange.faults`.
        """
        if self._closed:
            raise RuntimeError("This transport client is closed.")
        self._check_deadline()
        content = body if isinstance(body, bytes) else b"" if body is None else _encode_json(body)
        chosen, removed = self._merge_headers(headers or {})
        token = self._token
        write = bool(token) and any(token in value for value in chosen.values() if token)
        if write:
            try:
                self._budget.reserve()
            except WriteSkipped:
                self._stats["skipped_writes"] += 1
                raise
        try:
            return self._send(self.url(estimate_id), content, chosen, removed, write,
                              estimate_id=estimate_id)
        except (RunDeadlineExceeded, ValueError):
            if write:  # both are raised only before the write left
                self._budget.release()
            raise

    def _merge_headers(
        self, overrides: Mapping[str, str | None]
    ) -> tuple[dict[str, str], set[str]]:
        chosen = self.default_headers()
        removed: set[str] = set()
        for name, value in overrides.items():
            for existing in [key for key in chosen if key.lower() == name.lower()]:
                del chosen[existing]
            if value is None:
                removed.add(name.lower())
            else:
                chosen[name] = value
        return chosen, removed

    def time_left(self) -> float:
        """Seconds until the run's deadline (--run-timeout); 0 or less once it has passed."""
        return self.deadline - self._clock()

    def _check_deadline(self) -> None:
        if self._clock() >= self.deadline:
            raise RunDeadlineExceeded(
                f"The run's deadline of {self.settings.run_timeout:g} s (--run-timeout) has "
                "passed; no further request is sent."
            )

    def _wait(self, seconds: float) -> None:
        """Sleep `seconds`, in a bounded number of steps (a sleep may end a little early)."""
        until = self._clock() + seconds
        for _ in range(100):
            left = until - self._clock()
            if left <= 0:
                return
            self._sleep(left)

    def _wait_for_limiter(self) -> bool:
        """Wait until the limiter lets a request go; False if that would pass the deadline."""
        delay = self._limiter.delay()
        if delay <= 0:
            return True
        if self._clock() + delay >= self.deadline:
            return False
        log.debug("rate limit: waiting %.3f s before the next request", delay)
        self._stats["rate_limit_waits"] += 1
        self._wait(delay)
        return True

    def _send(self, url: str, content: bytes, chosen: dict[str, str], removed: set[str],
              write: bool, *, method: str = "POST", estimate_id: str = "") -> Exchange:
        started_at, started = time.time(), self._clock()
        attempts = retries = 0
        refused_retried = False
        rate_limit_why: str | None = None
        while True:
            if not self._wait_for_limiter():
                if attempts == 0:
                    self._check_deadline()
                    raise RunDeadlineExceeded(
                        "The rate limit's wait would pass the run's deadline "
                        f"({self.settings.run_timeout:g} s, --run-timeout); nothing more is sent."
                    )
                rate_limit_why = "waiting again would pass the run's deadline"
                break
            remaining = self.deadline - self._clock()
            if remaining <= 0:
                if attempts == 0:
                    self._check_deadline()  # raises: the deadline has passed
                rate_limit_why = "the run's deadline has passed"
                break
            timeout = min(self.settings.request_timeout, remaining)
            request = self._request(method, url, content, chosen, removed, timeout)
            self._stats["requests"] += 1
            attempts += 1
            attempt = self._attempt(request, timeout)
            # The token is spent when the attempt ends: the server counted the request at some
            # moment before, so the client's window never starts before the server's.
            self._limiter.sent()
            if (isinstance(attempt.error, httpx.ConnectError) and not refused_retried
                    and self._clock() + REFUSED_RETRY_PAUSE < self.deadline):
                refused_retried = True  # nothing was sent: one retry is safe, even for a write
                self._stats["retries"] += 1
                self._wait(REFUSED_RETRY_PAUSE)
                continue
            self._limiter.observe(attempt.headers)
            if attempt.status != 429:
                break
            if retries >= MAX_RETRIES:
                rate_limit_why = f"the client retried {MAX_RETRIES} times"
                break
            delay = retry_delay(attempt.headers, retries)
            if delay > MAX_WAIT:
                rate_limit_why = (f"the server asked for a wait of {delay:g} s, longer than the "
                                  f"{MAX_WAIT:g} s the client waits")
                break
            if self._clock() + delay >= self.deadline:
                rate_limit_why = f"a wait of {delay:g} s would pass the run's deadline"
                break
            # A 429 was not processed, so even a write is safe to send again.
            log.debug("429: retrying in %.3f s", delay)
            self._limiter.pause(delay)
            retries += 1
            self._stats["retries"] += 1
        return self._finish(request, attempt, write=write, estimate_id=estimate_id,
                            started=started, started_at=started_at, attempts=attempts,
                            retries=retries, rate_limit_why=rate_limit_why, timeout=timeout)

    def _request(self, method: str, url: str, content: bytes, chosen: dict[str, str],
                 removed: set[str], timeout: float) -> httpx.Request:
        try:
            request = self._http.build_request(
                method, url, content=content or None,
                headers={k.encode("utf-8"): v.encode("utf-8") for k, v in chosen.items()},
                timeout=httpx.Timeout(timeout),
            )
        except (ValueError, httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ValueError(f"The request cannot be built: {redact(str(exc), self._secrets)}") \
                from None
        for name in removed:  # also the client's own defaults (Accept, User-Agent ...)
            if name in request.headers and name not in ("host", "content-length"):
                del request.headers[name]
        return request

    def _attempt(self, request: httpx.Request, timeout: float) -> _Attempt:
        until = self._clock() + timeout
        try:
            response = self._http.send(request, stream=True)
        except httpx.LocalProtocolError as exc:
            # Our own request is malformed (a header h11 refuses): the caller's mistake.
            raise ValueError(
                f"The request cannot be sent: {redact(str(exc), self._secrets)}"
            ) from None
        except _faults.NOT_SENT as exc:
            return _Attempt(error=exc, sent=False)
        except httpx.TransportError as exc:
            return _Attempt(error=exc)
        attempt = _Attempt(status=response.status_code,
                           headers=Headers((k.lower(), v) for k, v in response.headers.items()))
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if self._clock() > until:  # a server trickling bytes must not hold the run
                    attempt.error = httpx.ReadTimeout("the answer took too long")
                    break
                if size > MAX_BODY:  # nor one sending without end fill the memory
                    attempt.error = httpx.ReadError(
                        f"the answer passed {MAX_BODY // 2**20} MiB; the client stopped reading")
                    break
        except httpx.DecodingError:
            attempt.undecodable = True
        except httpx.TransportError as exc:
            attempt.error = exc
        finally:
            response.close()
        attempt.body = b"".join(chunks)
        return attempt

    def _finish(self, request: httpx.Request, attempt: _Attempt, *, write: bool,
                estimate_id: str, started: float, started_at: float, attempts: int,
                retries: int, rate_limit_why: str | None, timeout: float) -> Exchange:
        secrets = self._secrets
        body = redact_bytes(attempt.body, secrets)
        found: list[Finding]
        if attempt.error is not None:
            cause = redact(str(attempt.error) or type(attempt.error).__name__, secrets)
            found = [_faults.classify_exception(attempt.error, write=write, sent=attempt.sent,
                                                status=attempt.status, timeout=timeout,
                                                cause=cause)]
        elif attempt.status == 429:
            found = [_faults.rate_limited(429, attempt.headers, body, retries=retries,
                                          why=rate_limit_why or "no retry was possible")]
        elif attempt.undecodable:
            found = [_faults.finding(
                "not-json", f"The {attempt.status} answer's Content-Encoding "
                f"{attempt.headers.get('content-encoding')} could not be decoded.",
                status=attempt.status)]
        else:
            found = []  # an answer that arrived whole: the judge's business
        if write:
            # Nothing reached the application: a refused connection or a request still 429.
            if (attempt.error is not None and not attempt.sent) or attempt.status == 429:
                self._budget.release()
            else:
                self._stats["writes"] += 1
        parsed, _ = _faults.parse(body) if body else (None, False)
        trace = next((f.trace_id for f in found if f.trace_id), None)
        trace = trace or _faults.trace_id(attempt.headers, body, parsed)
        created = None
        if write and attempt.error is None and attempt.status and 200 <= attempt.status < 300:
            created = self._created_invoice(parsed, estimate_id, request.content)
        exchange = Exchange(
            method=request.method,
            url=redact(str(request.url), secrets),
            request_headers=Headers(redact_headers(
                ((k.lower(), v) for k, v in request.headers.items()), secrets)),
            request_body=redact_bytes(request.content, secrets),
            status=attempt.status,
            response_headers=Headers(redact_headers(attempt.headers, secrets)),
            response_body=body,
            elapsed=self._clock() - started,
            faults=tuple(found),
            write=write,
            trace_id=trace,
            attempts=attempts,
            started_at=started_at,
            created_invoice=created,
        )
        if self._recorder:
            self._recorder.record(exchange)
        return exchange

    def _created_invoice(self, parsed: Any, estimate_id: str,
                         request_body: bytes) -> CreatedInvoice | None:
        invoice = parsed.get("invoice") if isinstance(parsed, dict) else None
        if not isinstance(invoice, dict) or not isinstance(invoice.get("_id"), str):
            return None
        number = invoice.get("invoiceNumber")
        location = invoice.get("altId")
        if not isinstance(location, str):
            sent, _ = _faults.parse(request_body)
            location = sent.get("altId") if isinstance(sent, dict) else None
        created = CreatedInvoice(
            id=invoice["_id"],
            number=number if isinstance(number, str | int) else None,
            estimate_id=estimate_id,
            location_id=location if isinstance(location, str) else self.settings.location_id,
        )
        self._created.append(created)
        return created

