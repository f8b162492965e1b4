"""Contract tests and drift reports for HighLevel's estimate-to-invoice API (LeadConnector)."""

from __future__ import annotations

__version__ = "0.1.0"
