"""Rate limiting: the client's bucket, HighLevel's X-RateLimit-* headers, and waits on 429."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from ghl_contract.registry import pinned
from ghl_contract.suite.ledger import Ledger
from ghl_contract.transport import TargetStopped, open_client
from ghl_contract.transport.ratelimit import (
    MAX_RETRIES,
    RateLimiter,
    TokenBucket,
    retry_after_seconds,
    retry_delay,
)
from ghl_contract.transport.testing import (
    TOKEN,
    Action,
    Received,
    convert,
    invoice_reply,
    json_reply,
    live_settings,
    serve,
)

NOW = datetime(2025, 8, 13, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_bucket_allows_rate_requests_in_any_window() -> None:
    clock = FakeClock()
    bucket = TokenBucket(3, 10.0, clock=clock)
    for _ in range(3):
        assert bucket.delay() == 0
        bucket.take()
        clock.advance(1.0)
    # Three went at 1000, 1001, 1002; the fourth may go when the first is a period old.
    assert bucket.delay() == pytest.approx(7.0)
    clock.advance(7.0)
    assert bucket.delay() == 0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("2", 2.0, id="delta-seconds"),
        pytest.param(" 0.5 ", 0.5, id="fractional-seconds"),
        pytest.param(format_datetime(NOW + timedelta(seconds=3), usegmt=True), 3.0,
                     id="http-date"),
        pytest.param(format_datetime(NOW - timedelta(seconds=3), usegmt=True), 0.0,
                     id="http-date-in-the-past"),
        pytest.param("-4", 0.0, id="negative"),
        pytest.param("soon", None, id="unreadable"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_retry_after_is_read(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds


@pytest.mark.parametrize(
    ("headers", "retry", "seconds"),
    [
        pytest.param({"retry-after": "2", "x-ratelimit-interval-milliseconds": "10000"}, 0, 2.0,
                     id="retry-after-when-shorter"),
        pytest.param({"retry-after": "60", "x-ratelimit-interval-milliseconds": "10000"}, 0,
                     10.0, id="the-interval-when-shorter"),
        pytest.param({"retry-after": "60"}, 0, 60.0, id="retry-after-alone"),
        pytest.param({"x-ratelimit-interval-milliseconds": "10000"}, 0, 10.0,
                     id="the-interval-alone"),
        pytest.param({"retry-after": "later", "x-ratelimit-interval-milliseconds": "250"}, 0,
                     0.25, id="unreadable-retry-after-falls-back"),
        pytest.param({}, 0, 1.0, id="else-backoff-1"),
        pytest.param({}, 2, 4.0, id="else-backoff-4"),
    ],
)
def test_retry_delay_order(headers: dict[str, str], retry: int, seconds: float) -> None:
    assert retry_delay(headers, retry, now=NOW) == seconds


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        pytest.param({"x-ratelimit-remaining": "50", "x-ratelimit-max": "100",
                      "x-ratelimit-interval-milliseconds": "10000"}, 0.0, id="plenty-left"),
        pytest.param({"x-ratelimit-remaining": "4", "x-ratelimit-max": "100",
                      "x-ratelimit-interval-milliseconds": "10000"}, 2.0, id="low-spreads-rest"),
        pytest.param({"x-ratelimit-remaining": "0", "x-ratelimit-max": "100",
                      "x-ratelimit-interval-milliseconds": "10000"}, 10.0,
                     id="none-left-waits-interval"),
        pytest.param({"x-ratelimit-remaining": "0"}, 10.0, id="none-left-default-interval"),
        pytest.param({}, 0.0, id="no-headers"),
    ],
)
def test_limiter_slows_down_on_remaining(headers: dict[str, str], pause: float) -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock)
    limiter.observe(headers)
    assert limiter.delay() == pytest.approx(pause)


def test_bucket_spaces_requests_at_the_server() -> None:
    with serve(lambda request, index: invoice_reply(index)) as server, open_client(
        live_settings(server.url, allow_writes=True, max_writes=10, rate_limit=(2, 0.4)),
        base_url=server.url, token=TOKEN,
    ) as client:
        for _ in range(5):
            convert(client, {"altId": "loc-1"})
        stats = client.stats
    arrivals = [request.at for request in server.requests]
    assert len(arrivals) == 5
    # No three requests within one 0.4 s window: each one waits for the one two before it.
    pairs = zip(arrivals, arrivals[2:], strict=False)
    assert all(later - earlier >= 0.4 for earlier, later in pairs)
    assert stats["rate_limit_waits"] >= 2


def test_low_remaining_header_pauses_the_next_request() -> None:
    headers = (("X-RateLimit-Remaining", "0"), ("X-RateLimit-Interval-Milliseconds", "300"))
    with serve(lambda request, index: json_reply(200, {"invoice": {"_id": f"inv-{index}"}},
                                                 headers)) as server, \
            open_client(live_settings(server.url, allow_writes=True), base_url=server.url,
                        token=TOKEN) as client:
        convert(client, {"altId": "loc-1"})
        convert(client, {"altId": "loc-1"})
    first, second = server.requests
    assert second.at - first.at >= 0.3


class EverySecond429:
    """Answers 429 (Retry-After: 1) to every second request; creates an invoice for the rest."""

    def __init__(self) -> None:
        self.invoices: list[str] = []
        self.last_429_at: float | None = None
        self.waits: list[float] = []  # from a 429 sent to the next request received

    def __call__(self, request: Received, index: int) -> Action:
        if self.last_429_at is not None:
            self.waits.append(request.at - self.last_429_at)
            self.last_429_at = None
        if index % 2 == 1:
            self.last_429_at = time.monotonic()
            return json_reply(429, {"statusCode": 429, "message": "Too many requests"},
                              (("Retry-After", "1"),))
        self.invoices.append(f"inv-{len(self.invoices)}")
        return invoice_reply(len(self.invoices))


def test_every_second_429_completes_respects_waits_and_duplicates_nothing() -> None:
    server_side = EverySecond429()
    created = Ledger("t", "v")
    with serve(server_side) as server, open_client(
        live_settings(server.url, allow_writes=True, max_writes=5), base_url=server.url,
        token=TOKEN, on_exchange=[created.hook(pinned().manifest)],
    ) as client:
        exchanges = [convert(client, {"altId": "loc-1"}) for _ in range(3)]
        stats = client.stats
    assert [e.faults for e in exchanges] == [(), (), ()]
    assert [e.status for e in exchanges] == [200, 200, 200]
    # Requests 0, 2, 4 created an invoice; 1 and 3 were 429 and retried after 1 s.
    assert len(server.requests) == 5
    assert len(server_side.invoices) == 3
    assert len({invoice.id for invoice in created.entries}) == 3
    assert len(server_side.waits) == 2
    assert all(wait >= 1.0 for wait in server_side.waits)
    # Every write request sent took a slot, the retries too: a 429 may have created something.
    assert (stats["writes"], stats["retries"]) == (5, 2)


def test_a_429_is_retried_only_while_a_write_slot_is_free() -> None:
    server_side = EverySecond429()
    with serve(server_side) as server, open_client(
        live_settings(server.url, allow_writes=True, max_writes=2), base_url=server.url,
        token=TOKEN,
    ) as client:
        first, second = (convert(client, {"altId": "loc-1"}) for _ in range(2))
    assert (first.status, first.faults) == (200, ())
    [fault] = second.faults
    assert (second.status, fault.rule) == (429, "rate-limited")
    assert "--max-writes" in fault.message
    assert len(server.requests) == 2


def test_429_forever_becomes_rate_limited_after_bounded_retries() -> None:
    always = json_reply(429, {"statusCode": 429, "message": "Too many", "traceId": "trace-429"},
                        (("X-RateLimit-Interval-Milliseconds", "50"),))
    with serve(lambda request, index: always) as server, open_client(
        live_settings(server.url, allow_writes=True, max_writes=10), base_url=server.url,
        token=TOKEN,
    ) as client:
        started = time.monotonic()
        exchange = convert(client, {"altId": "loc-1"})
        elapsed = time.monotonic() - started
        remaining = client.budget.remaining()
    [fault] = exchange.faults
    assert (fault.rule, fault.status, fault.trace_id) == ("rate-limited", 429, "trace-429")
    assert len(server.requests) == exchange.attempts == MAX_RETRIES + 1
    assert elapsed < 5.0
    assert remaining == 10 - exchange.attempts  # a server may create and answer 429 all the same


def test_429_asking_for_a_wait_past_the_deadline_stops_sending_to_the_target() -> None:
    reply = json_reply(429, {"statusCode": 429, "message": "Too many"},
                       (("Retry-After", "3600"),))
    with serve(lambda request, index: reply) as server, open_client(
        live_settings(server.url, allow_writes=True, run_timeout=60.0), base_url=server.url,
        token=TOKEN,
    ) as client:
        exchange = convert(client, {"altId": "loc-1"})
        started = time.monotonic()
        with pytest.raises(TargetStopped, match="3600 s") as stopped:
            client.request(pinned().manifest.get("get-invoice"), path={"invoiceId": "i"})
        refused_in = time.monotonic() - started
    [fault] = exchange.faults
    assert fault.rule == "rate-limited"
    assert "deadline" in fault.message
    assert "--run-timeout" in str(stopped.value)
    assert refused_in < 1.0  # at once, not after a wait
    assert len(server.requests) == 1


def test_429_wait_never_passes_the_run_deadline() -> None:
    reply = json_reply(429, {"statusCode": 429, "message": "Too many"}, (("Retry-After", "5"),))
    with serve(lambda request, index: reply) as server, open_client(
        live_settings(server.url, run_timeout=1.0), base_url=server.url, token=TOKEN,
    ) as client:
        started = time.monotonic()
        exchange = client.request(pinned().manifest.get("get-invoice"), path={"invoiceId": "i"})
    [fault] = exchange.faults
    assert fault.rule == "rate-limited"
    assert "deadline" in fault.message
    assert time.monotonic() - started < 1.0
    assert len(server.requests) == 1
