"""Client-side rate limiting and retries, as an httpx transport around the wire.

A token bucket of the run's own rate, HighLevel's X-RateLimit-* headers (slow down when the window
is nearly spent), and 429s: wait for the shorter of Retry-After and the rate-limit interval, retry
a bounded number of times, and when the wait asked for cannot be honoured within the run's time,
stop sending to that target at all rather than fire the next test at it. One refused connection
(nothing was sent) is retried once.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ghl_contract.transport.budget import WriteBudget
from ghl_contract.transport.passage import Passage
from ghl_contract.transport.refusals import RunDeadlineExceeded, TargetStopped

log = logging.getLogger("ghl_contract.transport")

MAX_RETRIES = 3  # 429 answers retried per request before it becomes a `rate-limited` finding
BACKOFF_BASE = 1.0  # seconds, doubled per retry when the server says nothing
REFUSED_RETRY_PAUSE = 0.25  # seconds before the one retry of a refused connection
DEFAULT_INTERVAL = 10.0  # HighLevel's burst window when X-RateLimit-Interval-Milliseconds is absent


class TokenBucket:
    """At most `rate` requests in any window of `period` seconds.

    A bucket of `rate` tokens where each spent token comes back exactly one period after it was
    spent. A classic bucket that refills continuously would let 2 x rate requests through one
    window (a full bucket, then the refill), and HighLevel counts requests per window.
    """

    def __init__(self, rate: int, period: float, clock: Callable[[], float] = time.monotonic):
        if rate < 1 or period <= 0:
            raise ValueError(f"a rate of {rate} per {period} s allows nothing")
        self.rate, self.period = rate, period
        self._clock = clock
        self._spent: deque[float] = deque()  # when each token in use was spent, oldest first

    def delay(self) -> float:
        """Seconds until a token is free (0 when one is free now)."""
        now = self._clock()
        while self._spent and self._spent[0] + self.period <= now:
            self._spent.popleft()
        if len(self._spent) < self.rate:
            return 0.0
        return self._spent[0] + self.period - now

    def take(self) -> None:
        """Spend a token; call it when `delay()` is 0."""
        self._spent.append(self._clock())


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def interval_seconds(headers: Mapping[str, str]) -> float | None:
    """X-RateLimit-Interval-Milliseconds in seconds, when present and sensible."""
    value = _number(headers, "x-ratelimit-interval-milliseconds")
    return value / 1000 if value is not None and value > 0 else None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds to wait: delta-seconds or an HTTP date; None when unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is read as such
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is unreadable


def retry_delay(headers: Mapping[str, str], retry: int, now: datetime | None = None) -> float:
    """How long to wait before retrying after a 429: the shorter of Retry-After and the
    rate-limit interval (a window of the interval has passed by then), else exponential backoff
    (1 s, 2 s, 4 s ...). `headers` have lower-case names."""
    said = [seconds for seconds in (retry_after_seconds(headers.get("retry-after"), now),
                                    interval_seconds(headers)) if seconds is not None]
    return min(said) if said else BACKOFF_BASE * 2.0**retry


class RateLimiter:
    """Decides how long to wait before the next request: the client's own bucket (optional) and
    what the server said (X-RateLimit-Remaining running low, or a 429)."""

    def __init__(
        self, limit: tuple[int, float] | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self.bucket = TokenBucket(*limit, clock=clock) if limit else None
        self._paused_until = 0.0

    def delay(self) -> float:
        """Seconds to wait before the next request may go."""
        pause = max(self._paused_until - self._clock(), 0.0)
        bucket = self.bucket.delay() if self.bucket else 0.0
        return max(pause, bucket)

    def sent(self) -> None:
        """A request went out: it spends a token."""
        if self.bucket:
            self.bucket.take()

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` (a 429's wait holds for every request, not only its own)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Slow down when the server's window is nearly spent.

        Remaining 0: wait one whole interval (the window's start is unknown, so a whole one is the
        only safe wait). Remaining low (a tenth of X-RateLimit-Max or less): spread what is left
        over the interval. Headers have lower-case names.
        """
        remaining = _number(headers, "x-ratelimit-remaining")
        if remaining is None:
            return
        interval = interval_seconds(headers)
        if interval is None:
            interval = self.bucket.period if self.bucket else DEFAULT_INTERVAL
        maximum = _number(headers, "x-ratelimit-max")
        low = max(1.0, (maximum or 0.0) / 10)
        if remaining <= 0:
            self.pause(interval)
        elif remaining <= low:
            self.pause(interval / (remaining + 1))


class RateLimitTransport(httpx.BaseTransport):
    """Paces the attempts it sends to `inner`, retries 429s and one refused connection, and stops
    sending to the target after a 429 whose wait the run cannot honour.

    `time_left`: seconds until the run's deadline. `budget`: a write is retried only while a slot
    is free (the retry is a write request of its own).
    """

    def __init__(self, inner: httpx.BaseTransport, limiter: RateLimiter, budget: WriteBudget,
                 time_left: Callable[[], float], *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.inner, self.limiter, self.budget = inner, limiter, budget
        self._time_left, self._clock, self._sleep = time_left, clock, sleep
        self.stopped: str | None = None  # why nothing more is sent to the target
        self.retries = 0
        self.waits = 0  # waits for the rate limit before an attempt

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.stopped is not None:
            raise TargetStopped(self.stopped)
        passage = Passage.of(request)
        refused_once = False
        while True:
            self._wait_turn()
            passage.attempts += 1
            try:
                response = self.inner.handle_request(request)
            except httpx.ConnectError:
                if refused_once or self._time_left() <= REFUSED_RETRY_PAUSE:
                    raise
                refused_once = True  # nothing was sent: one retry is safe, even for a write
                self.retries += 1
                self._wait(REFUSED_RETRY_PAUSE)
                continue
            except httpx.TransportError:
                self.limiter.sent()
                raise
            # The token is spent when the attempt ends: the server counted the request at some
            # moment before, so the client's window never starts before the server's.
            self.limiter.sent()
            self.limiter.observe(response.headers)
            if response.status_code != 429:
                return response
            passage.gave_up = self._no_retry(response, passage, request.url.host)
            if passage.gave_up is not None:
                return response
            response.close()  # a 429 was not processed: its body says nothing more
            log.debug("429: retrying in %.3f s", self.limiter.delay())
            passage.retries += 1
            self.retries += 1

    def _no_retry(self, response: httpx.Response, passage: Passage, host: str) -> str | None:
        """Why this 429 is not retried, or None; every later request waits for it meanwhile."""
        delay = retry_delay(response.headers, passage.retries)
        self.limiter.pause(delay)
        if passage.retries >= MAX_RETRIES:
            return f"the client retried {MAX_RETRIES} times"
        wait = self.limiter.delay()
        if wait >= self._time_left():
            self.stopped = (f"{host} answered 429 and asked for a wait of {delay:g} s, which "
                            "the run cannot honour before its deadline (--run-timeout): nothing "
                            "more is sent to it.")
            return (f"a wait of {wait:.1f} s would pass the run's deadline; nothing more is sent "
                    "to this target")
        if passage.writes and self.budget.refusal() is not None:
            return ("the write budget has no slot left for a retry, which is a write request of "
                    "its own (--max-writes)")
        return None

    def _wait_turn(self) -> None:
        """Wait until the limiter lets an attempt go; RunDeadlineExceeded if that is too late."""
        delay = self.limiter.delay()
        if delay <= 0:
            return
        if delay >= self._time_left():
            raise RunDeadlineExceeded(
                f"The rate limit's wait of {delay:g} s would pass the run's deadline "
                "(--run-timeout); nothing more is sent.")
        log.debug("rate limit: waiting %.3f s before the next request", delay)
        self.waits += 1
        self._wait(delay)

    def _wait(self, seconds: float) -> None:
        """Sleep `seconds`, in a bounded number of steps (a sleep may end a little early)."""
        until = self._clock() + seconds
        for _ in range(100):
            left = until - self._clock()
            if left <= 0:
                return
            self._sleep(left)

    def close(self) -> None:
        self.inner.close()
