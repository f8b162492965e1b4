"""The run's plan, stated before the first request: how many requests, how many of them writes,
what a complete run needs, and which tests a smaller write budget skips.

Each contract test declares what it sends with the `ghl_requests` marker: fixed `requests`, of
which `writes` go to operations that write (any request to one counts, whatever its token);
`creates`, the estimates it creates itself; `generated`, the kind of generated cases it sends (up
to the examples count of them, every one a write); and `converts`, that it reads the documented
conversion of its estimate (its `ghl_estimate` parameter) or, without one, of every estimate: a
write sent once per estimate and shared by all the tests that read it, so counted once. A run that
creates its estimates (suite/estimates.py) also creates one per such conversion and per generated
valid case that marks its estimate invoiced, and one `base` estimate for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pytest

from ghl_contract.reporters.common import plural
from ghl_contract.settings import RunSettings
from ghl_contract.suite.estimates import CREATED
from ghl_contract.suite.markers import MARKER

SHOWN_SKIPS = 5  # tests a smaller budget skips, named in the plan (the rest counted)


@dataclass(frozen=True)
class Plan:
    """Requests and writes the collected contract tests will send at most, in their order."""

    tests: int
    requests: int
    writes: int
    # Each test that writes, in run order, with the writes it needs first (shared ones once).
    costs: tuple[tuple[str, int], ...] = field(default=())

    @classmethod
    def of(cls, items: Iterable[pytest.Item], examples: int, estimates: Iterable[str],
           mode: str = "") -> Plan:
        """The plan of the selected `items`, for a run that knows `estimates` (by key) and gets
        them as `mode` says (created: each conversion needs an estimate created first)."""
        creating = mode == CREATED
        tests = requests = writes = 0
        converted: set[str] = set()
        base_made = False
        costs: list[tuple[str, int]] = []
        for item in items:
            if item.get_closest_marker("skip") is not None:
                continue
            tests += 1
            marker = item.get_closest_marker(MARKER)
            if marker is None:
                continue
            kind = marker.kwargs.get("generated")
            generated = examples if kind else 0
            made = int(marker.kwargs.get("creates", 0)) if creating else 0
            sent = int(marker.kwargs.get("requests", 0)) + generated + made
            wrote = int(marker.kwargs.get("writes", 0)) + generated + made
            if creating and kind == "valid":
                wrote += generated  # an estimate for each case that marks it invoiced
                sent += generated
            if creating and not base_made and (kind == "invalid" or marker.kwargs.get("writes")):
                base_made = True  # the base estimate refusals and plain conversions go to
                wrote, sent = wrote + 1, sent + 1
            if marker.kwargs.get("converts"):
                params = getattr(item, "callspec", None)
                own = params.params.get("ghl_estimate") if params is not None else None
                new = {own} if own is not None else set(estimates)
                new -= converted
                converted |= new
                step = len(new) * (2 if creating else 1)  # create it, convert it
                wrote, sent = wrote + step, sent + step
            requests += sent
            writes += wrote
            if wrote:
                costs.append((item.nodeid, wrote))
        return cls(tests, requests, writes, tuple(costs))

    def skipped_by(self, budget: int) -> list[str]:
        """The tests that write which a budget of `budget` writes leaves without one, in run
        order (a test is skipped once the writes before it and its own pass the budget)."""
        spent, skipped = 0, []
        for test, cost in self.costs:
            if spent + cost > budget:
                skipped.append(test)
            spent += cost
        return skipped

    def lines(self, settings: RunSettings, target: str) -> list[str]:
        """The plan in plain sentences; a live run also states its write budget and pace."""
        head = (f"Plan: {plural(self.tests, 'contract test')} against {target}: at most "
                f"{plural(self.requests, 'request')}")
        if not settings.live:
            return [head + "."]
        lines = [head + f", {plural(self.writes, 'write')} among them (requests to operations "
                 "that create or change data, whatever their token): a complete run needs "
                 f"--max-writes {self.writes}."]
        reads = self.requests - self.writes
        if settings.estimate_id:
            lines.append(f"Estimate {settings.estimate_id} (--estimate-id) is converted once at "
                         "most, without markAsInvoiced; the conversions that need more "
                         "estimates are skipped.")
        elif settings.allow_writes:
            lines.append("The run creates the estimates it converts (one per conversion that "
                         "marks it invoiced) and deletes what it created at the end "
                         f"(--cleanup {settings.cleanup}).")
        if not settings.allow_writes:
            lines.append(f"Writes are off (no --allow-writes): nothing is created; the tests "
                         f"that need a write are skipped and {plural(reads, 'request')} that "
                         "cannot write are sent.")
        else:
            skipped = self.skipped_by(settings.max_writes)
            lines.append(f"Writes are allowed up to --max-writes {settings.max_writes}"
                         + (f": {_named(skipped)} cannot be afforded and will be skipped."
                            if skipped else ": enough for a complete run."))
        rate = settings.effective_rate_limit
        if rate is not None:
            count, period = rate
            sent = reads + (min(settings.max_writes, self.writes) if settings.allow_writes else 0)
            least = max(sent - count, 0) / count * period
            lines.append(f"Client-side rate limit: {count} requests per {period:g} s"
                         + (f", so the run takes at least {least:.0f} s." if least >= 1 else "."))
        return lines


def _named(tests: Sequence[str]) -> str:
    names = [test.rsplit("::", 1)[-1] for test in tests[:SHOWN_SKIPS]]
    more = f" and {len(tests) - SHOWN_SKIPS} more" if len(tests) > SHOWN_SKIPS else ""
    return f"{plural(len(tests), 'test')} ({', '.join(names)}{more})"
