"""The run's plan, stated before the first request: how many requests, how many of them writes.

Each contract test declares what it sends with the `ghl_requests` marker: fixed `requests`, of
which `writes` go to an operation that writes (each can create, whatever its token); `generated`,
the kind of generated cases it sends (up to the examples count of them, every one a write); and
`converts`, that it reads the documented conversion of its estimate (its `ghl_estimate`
parameter) or, without one, of every estimate: a write sent once per estimate and shared by all
the tests that read it, so counted once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pytest

from ghl_contract.reporters.common import plural
from ghl_contract.settings import RunSettings
from ghl_contract.suite.markers import MARKER


@dataclass(frozen=True)
class Plan:
    """Requests and writes the collected contract tests will send at most."""

    tests: int
    requests: int
    writes: int

    @classmethod
    def of(cls, items: Iterable[pytest.Item], examples: int, estimates: Iterable[str]) -> Plan:
        """The plan of the selected `items`, for a run that knows `estimates`."""
        tests = requests = writes = 0
        converted: set[str] = set()
        for item in items:
            if item.get_closest_marker("skip") is not None:
                continue
            tests += 1
            marker = item.get_closest_marker(MARKER)
            if marker is None:
                continue
            generated = examples if marker.kwargs.get("generated") else 0
            requests += int(marker.kwargs.get("requests", 0)) + generated
            writes += int(marker.kwargs.get("writes", 0)) + generated
            if marker.kwargs.get("converts"):
                params = getattr(item, "callspec", None)
                own = params.params.get("ghl_estimate") if params is not None else None
                converted.update([own] if own is not None else estimates)
        return cls(tests, requests + len(converted), writes + len(converted))

    def lines(self, settings: RunSettings, target: str) -> list[str]:
        """The plan in plain sentences; a live run also states its write budget and pace."""
        head = (f"Plan: {plural(self.tests, 'contract test')} against {target}: at most "
                f"{plural(self.requests, 'request')}")
        if not settings.live:
            return [head + "."]
        lines = [head + f", {plural(self.writes, 'write')} among them (a request to an "
                 "operation that can create or change data, whatever its token)."]
        reads = self.requests - self.writes
        if not settings.allow_writes:
            lines.append(f"Writes are off (no --allow-writes): no invoice is created; the tests "
                         f"that need a write are skipped and {plural(reads, 'request')} that "
                         "cannot create one are sent.")
        else:
            cap = min(settings.max_writes, self.writes)
            lines.append(f"Writes are allowed up to --max-writes {settings.max_writes}: at most "
                         f"{plural(cap, 'invoice')} can be created; past the cap, the tests that "
                         "need a write are skipped.")
        rate = settings.effective_rate_limit
        if rate is not None:
            count, period = rate
            sent = reads + (min(settings.max_writes, self.writes) if settings.allow_writes else 0)
            least = max(sent - count, 0) / count * period
            lines.append(f"Client-side rate limit: {count} requests per {period:g} s"
                         + (f", so the run takes at least {least:.0f} s." if least >= 1 else "."))
        return lines
