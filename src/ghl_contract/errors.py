"""The one exception a user's mistake raises; the CLI turns it into one sentence and exit 2."""

from __future__ import annotations


class UsageError(Exception):
    """A bad option, an unreadable file, invalid input: one plain sentence, exit code 2."""
