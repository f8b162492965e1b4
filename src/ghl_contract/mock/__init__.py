"""A faithful mock of HighLevel's estimate and invoice operations, served on loopback.

`MockApp` is the ASGI app (state in `Store`, seeded by `load_seed`), `serve` runs it with uvicorn
in a thread, `DRIFT_PROFILES` and `FAULT_PROFILES` break it on purpose. What it does, check by
check, is written down in BEHAVIOUR.md beside this module (the README's section on the mock).
"""

from __future__ import annotations

from ghl_contract.mock.app import MockApp
from ghl_contract.mock.profiles import DRIFT_PROFILES, FAULT_PROFILES, DriftProfile, FaultProfile
from ghl_contract.mock.seed import Location, Seed, load_seed
from ghl_contract.mock.server import Running, serve

__all__ = [
    "DRIFT_PROFILES",
    "FAULT_PROFILES",
    "DriftProfile",
    "FaultProfile",
    "Location",
    "MockApp",
    "Running",
    "Seed",
    "load_seed",
    "serve",
]
