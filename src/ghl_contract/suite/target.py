"""What a contract run talks to: the embedded mock or a live base URL, with the run's credentials.

Without `--base-url` the run starts the package's mock on an ephemeral loopback port and takes its
credentials from the mock's seed: the first location's token, id and estimates, and the second
location for the 403 tests. With `--base-url` everything comes from the settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ghl_contract.errors import UsageError
from ghl_contract.settings import RunSettings
from ghl_contract.suite.estimates import BASE, CREATED, GIVEN, SEEDED, templates

if TYPE_CHECKING:
    from ghl_contract.mock.app import MockApp
    from ghl_contract.operations import Operation

# The embedded mock is the suite's own target, not a model of a sandbox's quota: its burst limit
# is set high enough that a run is never throttled (the mock's own tests cover its 429s).
EMBEDDED_RATE_LIMIT = (100_000, 10.0)


@dataclass(frozen=True)
class Target:
    """Where the run sends its requests and with which credentials."""

    base_url: str
    token: str | None
    location_id: str
    estimate_ids: tuple[str, ...]  # the keys of the estimates the run converts (estimates.py)
    other_location_id: str | None  # a location the token may not access (403 tests)
    other_estimate_id: str | None  # an estimate of that location
    embedded: bool
    description: str
    secrets: tuple[str, ...]  # every token to keep out of output and reports
    mock: MockApp | None = field(default=None, repr=False, compare=False)  # the embedded one
    estimate_mode: str = SEEDED  # where its estimates come from (suite/estimates.py)

    def unexercised_drift(self) -> str | None:
        """A note when the embedded mock's drift profile changed no answer of the run."""
        if self.mock is None or self.mock.drift is None or self.mock.drifted:
            return None
        drift = self.mock.drift
        return (f"The drift profile {drift.name} changed no answer: no selected test received a "
                f"{drift.status} answer, so this run says nothing about it.")

    @property
    def estimate_id(self) -> str:
        return self.estimate_ids[0]


@dataclass(frozen=True)
class Outline:
    """What the run will know about its target, before anything is started (for collection)."""

    location_id: str
    estimate_ids: tuple[str, ...]  # keys: seed ids, the given id, or templates to create
    other_location: bool
    other_estimate: bool
    estimate_mode: str = SEEDED


def _live_estimates(settings: RunSettings) -> tuple[str, tuple[str, ...]]:
    """A live run's estimates: the one given (--estimate-id), or templates the run creates."""
    if settings.estimate_id:
        return GIVEN, (settings.estimate_id,)
    return CREATED, tuple(key for key in templates() if key != BASE)


def _required(value: str | None, flag: str) -> str:
    # RunSettings.validate() already insists on these for a live run; this keeps it explicit.
    if not value:
        raise UsageError(f"A live run needs {flag}.")
    return value


def validate_mock_profiles(settings: RunSettings) -> None:
    """Raise a UsageError naming the choices when --mock-drift or --mock-fault is unknown."""
    if settings.mock_drift is None and settings.mock_fault is None:
        return  # the mock is not loaded for nothing (a live run never loads it)
    from ghl_contract.mock.profiles import DRIFT_PROFILES, FAULT_PROFILES

    for flag, name, table in (("--mock-drift", settings.mock_drift, DRIFT_PROFILES),
                              ("--mock-fault", settings.mock_fault, FAULT_PROFILES)):
        if name is not None and name not in table:
            raise UsageError(f"{flag} {name!r} is not a profile; choose one of "
                             f"{', '.join(sorted(table))}.")


def outline(settings: RunSettings) -> Outline:
    """The location, estimates and second location the run will use, known without a server."""
    if settings.live:
        mode, keys = _live_estimates(settings)
        return Outline(_required(settings.location_id, "--location-id"), keys,
                       settings.other_location_id is not None,
                       settings.other_estimate_id is not None, mode)
    from ghl_contract.mock.seed import load_seed

    locations = load_seed().locations
    return Outline(locations[0].location_id, tuple(locations[0].estimates), len(locations) > 1,
                   len(locations) > 1 and bool(locations[1].estimates))


@contextmanager
def open_target(settings: RunSettings) -> Iterator[Target]:
    """The run's target for the duration of the block (the embedded mock is served meanwhile)."""
    if settings.live:
        base_url = _required(settings.base_url, "--base-url")
        mode, keys = _live_estimates(settings)
        yield Target(
            base_url=base_url,
            token=settings.token,
            location_id=_required(settings.location_id, "--location-id"),
            estimate_ids=keys,
            other_location_id=settings.other_location_id,
            other_estimate_id=settings.other_estimate_id,
            embedded=False,
            description=f"{base_url} (live)",
            secrets=tuple(s for s in (settings.token,) if s),
            estimate_mode=mode,
        )
        return
    from ghl_contract.mock.app import MockApp
    from ghl_contract.mock.seed import load_seed
    from ghl_contract.mock.server import serve

    validate_mock_profiles(settings)
    seed = load_seed()
    app = MockApp(seed, drift=settings.mock_drift, fault=settings.mock_fault,
                  rate_limit=EMBEDDED_RATE_LIMIT)
    first = seed.locations[0]
    second = seed.locations[1] if len(seed.locations) > 1 else None
    profiles = [f"{kind} profile {name}" for kind, name in
                (("drift", settings.mock_drift), ("fault", settings.mock_fault)) if name]
    with serve(app) as running:
        yield Target(
            base_url=running.url,
            token=first.token,
            location_id=first.location_id,
            estimate_ids=tuple(first.estimates),
            other_location_id=second.location_id if second else None,
            other_estimate_id=next(iter(second.estimates), None) if second else None,
            embedded=True,
            description=f"the embedded mock at {running.url}"
                        + (f" ({', '.join(profiles)})" if profiles else ""),
            secrets=tuple(location.token for location in seed.locations),
            mock=app,
        )


# What the run puts in a required query parameter it has no test-specific value for: its location,
# and the first page of a listing.
_QUERY_DEFAULTS = {"altType": "location", "limit": "100", "offset": "0"}


def query_for(operation: Operation, location_id: str, **given: str) -> dict[str, str]:
    """The query of a request of `operation` about `location_id`: every required parameter
    filled (altId the location, altType location, the first page), and `given` besides."""
    query: dict[str, str] = {}
    for parameter in operation.in_("query"):
        if parameter.name in given:
            continue
        if parameter.name == "altId":
            query["altId"] = location_id
        elif parameter.required and parameter.name in _QUERY_DEFAULTS:
            query[parameter.name] = _QUERY_DEFAULTS[parameter.name]
        elif parameter.required:
            raise UsageError(f"The run has no value for the required query parameter "
                             f"{parameter.name!r} of {operation.id}.")
    return {**query, **given}
