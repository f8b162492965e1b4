"""A faithful mock of HighLevel's estimate and invoice operations, served on loopback.

`MockApp` is the ASGI app: it routes by the operation manifest to one handler per operation
(`handlers.py`), over its state in a `Store` seeded by `load_seed`; `serve` runs it with uvicorn in
a thread. `BEHAVIOURS` are its two ways of answering (as documented, as observed live);
`DRIFT_PROFILES` and `FAULT_PROFILES` break it on purpose (data: profiles.json). What it does,
operation by operation and check by check, is written down in docs/mock.md.
"""

from __future__ import annotations

from ghl_contract.mock.app import MockApp
from ghl_contract.mock.behaviour import BEHAVIOURS, Behaviour
from ghl_contract.mock.profiles import DRIFT_PROFILES, FAULT_PROFILES, DriftProfile, FaultProfile
from ghl_contract.mock.seed import Location, Seed, load_seed
from ghl_contract.mock.server import Running, serve

__all__ = [
    "BEHAVIOURS",
    "DRIFT_PROFILES",
    "FAULT_PROFILES",
    "Behaviour",
    "DriftProfile",
    "FaultProfile",
    "Location",
    "MockApp",
    "Running",
    "Seed",
    "load_seed",
    "serve",
]
