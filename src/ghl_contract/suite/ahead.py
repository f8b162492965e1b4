"""Generated cases drawn ahead: a forked helper draws them on another core while the run goes on.

Drawing Schemathesis' negative cases is the dearest part of a run: loading Schemathesis and
Hypothesis (about as long as pytest's whole start), then each mutation builds a new strategy. The
test that sends them comes last. So the run forks a helper as early as it can, before it starts
any thread (the embedded mock's): `ghl-contract run` before pytest starts, a plain pytest session
when it starts. The helper loads Schemathesis, draws those cases and hands them back through a
pipe; meanwhile the run collects and sends every other test without ever loading Schemathesis or
Hypothesis. The helper only draws: it opens no connection and sends nothing (its copy of the
settings, token included, is never used). If the run dies first, the helper ends on its own: once
drawn, its write to a pipe nobody reads kills it.

Where forking is not safe the cases are drawn in process when the test asks, as before: on a
system without `fork`, on macOS (its system libraries do not survive a fork without exec), and in
a process that already runs a thread. The same goes when the helper fails or is not done within
HELPER_TIMEOUT. The helper draws exactly the cases the process would (the same seed).
"""
from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from ghl_contract.suite.generation import GeneratedCase, invalid_cases

if TYPE_CHECKING:
    from ghl_contract.settings import RunSettings
    from ghl_contract.suite.target import Outline

# Seconds the run waits for the helper's cases before it draws them itself.
HELPER_TIMEOUT = 120.0


def draw_invalid_ahead(settings: RunSettings, known: Outline, profile: str, count: int,
                       seed: int | None) -> Ahead | None:
    """A helper drawing the `count` invalid cases of a run (None: they are drawn in process
    when the test asks, or the run sends none: a live run without writes)."""
    if settings.live and not settings.allow_writes:
        return None
    # What is loaded by now lives as long as the run: frozen, the helper shares it without
    # copying (the collector would otherwise touch every object's header).
    gc.freeze()
    return Ahead.start("invalid", count, partial(
        invalid_cases, count, estimate_ids=known.estimate_ids, location_id=known.location_id,
        api_version=settings.api_version, profile=profile, seed=seed))


def can_fork() -> bool:
    """Whether a helper may be forked here: POSIX but not macOS, and no other thread running."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


@dataclass
class Ahead:
    """Cases of one kind being drawn by a forked helper; `take` them once, or `cancel`."""

    kind: str
    count: int
    pid: int
    _pipe: int | None = field(default=None, repr=False)

    @classmethod
    def start(cls, kind: str, count: int, draw: Callable[[], list[GeneratedCase]]) -> Ahead | None:
        """Fork a helper that runs `draw`; None when it cannot (the test then draws in process)."""
        if count <= 0 or not can_fork():
            return None
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            with contextlib.suppress(Exception):
                stream.flush()
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the helper: draw, write, leave without running the parent's exit code
            os.close(read_end)
            _helper(write_end, draw)
        os.close(write_end)
        return cls(kind, count, pid, read_end)

    def take(self, kind: str, count: int, *, within: float = HELPER_TIMEOUT
             ) -> list[GeneratedCase] | None:
        """The helper's cases if it drew `count` of `kind` and delivers them within `within`
        seconds (at most HELPER_TIMEOUT); else None, and the helper is stopped."""
        if kind != self.kind or count != self.count or self._pipe is None:
            return None
        pipe, self._pipe = self._pipe, None
        payload: bytes | None = None
        try:
            payload = _read_all(pipe, time.monotonic() + min(within, HELPER_TIMEOUT))
        except OSError:
            payload = None
        finally:
            os.close(pipe)
            if payload is None:  # late, or the read failed: the helper has nothing to give
                self._stop()
        if payload is None or self._wait() != 0:
            return None
        try:
            cases = pickle.loads(payload)
        except Exception:  # a helper cut short: the test draws in process
            return None
        return cases if isinstance(cases, list) else None

    def cancel(self) -> None:
        """Stop the helper if its cases were never taken (the test was deselected or skipped)."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
            self._stop()

    def _stop(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        self._wait()

    def _wait(self) -> int:
        """The helper's exit status once it has ended; -1 if it was reaped already."""
        try:
            return os.waitpid(self.pid, 0)[1]
        except ChildProcessError:
            return -1


def _helper(write_end: int, draw: Callable[[], list[GeneratedCase]]) -> None:
    status = 1
    try:
        payload = pickle.dumps(draw(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        status = 0
    except BaseException:  # the parent draws in process and sees the error there
        pass
    finally:
        os._exit(status)


def _read_all(pipe: int, deadline: float) -> bytes | None:
    """Everything the helper writes until it closes the pipe; None past `deadline`."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([pipe], [], [], left)[0]:
            return None
        chunk = os.read(pipe, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
