"""Client-side rate limiting: a token bucket, HighLevel's X-RateLimit-* headers and 429 waits."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRIES = 3  # 429 answers retried per request before it becomes a `rate-limited` finding
MAX_WAIT = 60.0  # seconds: a server asking for a longer wait is reported, not obeyed
BACKOFF_BASE = 1.0  # seconds, doubled per retry when the server says nothing
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
    """How long to wait before retrying after a 429: Retry-After, else the rate-limit interval,
    else exponential backoff (1 s, 2 s, 4 s ...). `headers` have lower-case names."""
    seconds = retry_after_seconds(headers.get("retry-after"), now)
    if seconds is not None:
        return seconds
    interval = interval_seconds(headers)
    if interval is not None:
        return interval
    return BACKOFF_BASE * 2.0**retry


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
