"""Contract tests and drift reports for HighLevel's create-invoice-from-estimate endpoint."""

from __future__ import annotations

__version__ = "0.1.0"
