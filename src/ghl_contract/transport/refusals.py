"""Why the client sent nothing: raised instead of a request, never for a server's misbehaviour."""

from __future__ import annotations


class WriteSkipped(Exception):
    """The write budget forbids this write; str(exc) is a sentence for a skipped test."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendingStopped(Exception):
    """The client sends nothing more in this run; str(exc) says why."""


class RunDeadlineExceeded(SendingStopped):
    """The run's deadline (--run-timeout) has passed, or would pass before a request could go."""


class TargetStopped(SendingStopped):
    """The target asked for a wait (a 429) the run cannot honour before its deadline."""
