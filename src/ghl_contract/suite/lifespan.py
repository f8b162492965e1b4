"""A run stopped by SIGTERM ends as one stopped by Ctrl-C: its fixtures tear down and clean up.

SIGTERM (a CI job cancelled, `kill`) is turned into the KeyboardInterrupt Ctrl-C gives, so that
pytest ends the session the same way and the run's fixtures tear down (run_end.py cleans up). A
request under way when the signal comes is let finish first (`in_flight`): an object it creates
is then in the ledger, where an interrupted answer would have left it unknown.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class _Stop:
    """Whether a request is under way, and whether SIGTERM came meanwhile."""

    in_flight = 0
    requested: int | None = None  # the signal that came while a request was under way


@contextlib.contextmanager
def in_flight() -> Iterator[None]:
    """A request under way: SIGTERM waits for its answer, then interrupts the run."""
    _Stop.in_flight += 1
    try:
        yield
    finally:
        _Stop.in_flight -= 1
        if _Stop.requested is not None and not _Stop.in_flight:
            signum, _Stop.requested = _Stop.requested, None
            raise KeyboardInterrupt(f"stopped by signal {signum}")


@contextlib.contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM interrupts the run as Ctrl-C does (main thread only), once the
    request under way, if any, has its answer."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if _Stop.in_flight:
            _Stop.requested = signum
            return
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
