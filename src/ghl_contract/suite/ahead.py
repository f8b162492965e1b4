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
HELPER_TIMEOUT (a helper that fails midway leaves the rest to the process). The helper draws
with the run's seed: the same seed, the same cases.
"""
from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from ghl_contract.suite.generation import GeneratedCase, invalid_stream

if TYPE_CHECKING:
    from ghl_contract.settings import RunSettings
    from ghl_contract.suite.target import Outline

# Seconds the run waits for the helper's next cases before it draws them itself.
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
        invalid_stream, count, estimate_ids=known.estimate_ids, location_id=known.location_id,
        api_version=settings.api_version, profile=profile, seed=seed))


def can_fork() -> bool:
    """Whether a helper may be forked here: POSIX but not macOS, and no other thread running."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


class HelperFailed(Exception):
    """The helper stopped before it had drawn all its cases (or did not deliver them in time)."""


@dataclass
class Ahead:
    """Cases of one kind being drawn by a forked helper; `stream` or `take` them once, or
    `cancel`."""

    kind: str
    count: int
    pid: int
    _pipe: int | None = field(default=None, repr=False)

    @classmethod
    def start(cls, kind: str, count: int, draw: Callable[[], Iterable[GeneratedCase]]
              ) -> Ahead | None:
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

    def stream(self, kind: str, count: int, *, within: float = HELPER_TIMEOUT
               ) -> Iterator[GeneratedCase] | None:
        """The helper's cases, each as soon as it is drawn, if it draws `count` of `kind`; None
        otherwise. Past `within` seconds from now, or HELPER_TIMEOUT without a case, or when the
        helper fails, the iterator raises HelperFailed (after the cases it did deliver), and the
        helper is stopped."""
        if kind != self.kind or count != self.count or self._pipe is None:
            return None
        pipe, self._pipe = self._pipe, None
        return self._cases(pipe, time.monotonic() + within)

    def take(self, kind: str, count: int, *, within: float = HELPER_TIMEOUT
             ) -> list[GeneratedCase] | None:
        """All the helper's cases at once (see `stream`); None when it fails."""
        cases = self.stream(kind, count, within=within)
        try:
            return None if cases is None else list(cases)
        except HelperFailed:
            return None

    def cancel(self) -> None:
        """Stop the helper if its cases were never taken (the test was deselected or skipped)."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
            self._stop()

    def _cases(self, pipe: int, deadline: float) -> Iterator[GeneratedCase]:
        finished = False
        try:
            for frame in _frames(pipe, deadline):
                try:
                    cases = pickle.loads(frame)
                except Exception:
                    raise HelperFailed("the helper wrote what it could not have") from None
                yield from cases
            finished = self._wait() == 0
            if not finished:
                raise HelperFailed("the helper stopped before it had drawn every case")
        except OSError as exc:
            raise HelperFailed(str(exc)) from None
        finally:
            os.close(pipe)
            if not finished:  # late, failed, or no longer read from: it has nothing more to give
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


# Cases per frame the helper writes: sent a few at a time, the first ones are sent while the
# helper draws the rest.
FRAME = 8
_LENGTH = struct.Struct(">I")


def _helper(write_end: int, draw: Callable[[], Iterable[GeneratedCase]]) -> None:
    status = 1
    try:
        pipe = _Pipe(write_end)
        batch: list[GeneratedCase] = []
        for case in draw():
            batch.append(case)
            if len(batch) == FRAME:
                pipe.send(batch)
                batch = []
        pipe.send(batch)
        pipe.close()
        status = 0
    except BaseException:  # the parent draws in process and sees the error there
        pass
    finally:
        os._exit(status)


class _Pipe:
    """The helper's end: frames (length, pickled cases) written without ever waiting for the run
    to read them, so that drawing goes on while the run is busy; what does not fit in the pipe is
    kept until it does, and written out, waiting, once everything is drawn."""

    def __init__(self, fd: int) -> None:
        self.fd, self.pending = fd, bytearray()
        os.set_blocking(fd, False)

    def send(self, cases: list[GeneratedCase]) -> None:
        payload = pickle.dumps(cases, protocol=pickle.HIGHEST_PROTOCOL)
        self.pending += _LENGTH.pack(len(payload)) + payload
        with contextlib.suppress(BlockingIOError):
            while self.pending:
                del self.pending[:os.write(self.fd, self.pending)]

    def close(self) -> None:
        os.set_blocking(self.fd, True)
        while self.pending:
            del self.pending[:os.write(self.fd, self.pending)]
        os.close(self.fd)


def _frames(pipe: int, deadline: float) -> Iterator[bytes]:
    """The frames the helper writes, until it closes the pipe. Each must come before `deadline`
    and within HELPER_TIMEOUT of the one before, else HelperFailed."""
    buffer = bytearray()
    while True:
        while len(buffer) >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer)
            if len(buffer) < _LENGTH.size + size:
                break
            yield bytes(buffer[_LENGTH.size:_LENGTH.size + size])
            del buffer[:_LENGTH.size + size]
        left = min(deadline, time.monotonic() + HELPER_TIMEOUT) - time.monotonic()
        if left <= 0 or not select.select([pipe], [], [], left)[0]:
            raise HelperFailed("the helper did not deliver its cases in time")
        chunk = os.read(pipe, 1 << 16)
        if not chunk:
            if buffer:
                raise HelperFailed("the helper stopped in the middle of a frame")
            return
        buffer += chunk
