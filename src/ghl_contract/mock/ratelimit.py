"""HighLevel's rate limits as the mock applies them: a burst window and a daily quota per key."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# HighLevel documents 200,000 requests per day per app and location.
DAILY_LIMIT = 200_000
DAY = 86_400.0


@dataclass(frozen=True)
class Verdict:
    """Whether one request may pass, and what the X-RateLimit-* headers say about it."""

    allowed: bool
    limit: int
    interval: float
    remaining: int
    daily_limit: int
    daily_remaining: int
    retry_after: int  # seconds; 0 when allowed

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-ratelimit-limit-daily", b"%d" % self.daily_limit),
            (b"x-ratelimit-daily-remaining", b"%d" % self.daily_remaining),
            (b"x-ratelimit-interval-milliseconds", b"%d" % round(self.interval * 1000)),
            (b"x-ratelimit-max", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % self.remaining),
        ]
        if not self.allowed:
            headers.append((b"retry-after", b"%d" % self.retry_after))
        return headers


class RateLimiter:
    """A sliding window of `limit` requests per `interval` seconds and a daily quota, per key.

    A refused request does not count against either: only what the API served does.
    """

    def __init__(self, limit: int, interval: float, *, daily_limit: int = DAILY_LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or interval <= 0:
            raise ValueError("a rate limit needs at least one request per positive interval")
        self.limit, self.interval, self.daily_limit = limit, interval, daily_limit
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: dict[str, deque[float]] = {}
        self._daily: dict[str, tuple[float, int]] = {}  # key -> (day start, requests served)

    def hit(self, key: str) -> Verdict:
        now = self._clock()
        with self._lock:
            recent = self._recent.setdefault(key, deque())
            while recent and recent[0] <= now - self.interval:
                recent.popleft()
            day_start, served = self._daily.get(key, (now, 0))
            if now - day_start >= DAY:
                day_start, served = now, 0
            allowed = len(recent) < self.limit and served < self.daily_limit
            retry_after = 0
            if allowed:
                recent.append(now)
                served += 1
            elif served >= self.daily_limit:
                retry_after = math.ceil(day_start + DAY - now)
            else:
                retry_after = max(1, math.ceil(recent[0] + self.interval - now))
            self._daily[key] = (day_start, served)
            return Verdict(allowed, self.limit, self.interval, self.limit - len(recent),
                           self.daily_limit, self.daily_limit - served, retry_after)
