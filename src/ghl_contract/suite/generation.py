"""Generated requests, drawn up front: valid ones listed, invalid ones by Schemathesis.

Valid requests to convert an estimate are few (six bodies per estimate): all of them are listed
(finite.py), a seeded sample when there are more than asked for; where the request schema admits
too many to list, Schemathesis' positive generation draws them. Invalid bodies come from
Schemathesis' negative generation over the contract's OpenAPI document, drawn one by one from a
seeded stream (drawing.py), until the count asked for is reached with distinct cases.

Hypothesis is used here as a generator only. The cases of a test are drawn first (no request is
sent inside Hypothesis), then sent one by one through the run's client. So a live run never
replays or shrinks a write, the write budget can stop a test between two cases, a flaky server
cannot turn into a Hypothesis "Flaky" error, and the token never reaches a reproduction snippet:
the failing request is in the test's message and in the drift report instead. The same seed
draws the same cases: --seed replays a run's requests.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import orjson

from ghl_contract.suite import drawing, finite

if TYPE_CHECKING:
    from ghl_contract.registry import ContractRegistry

DEFAULT_EXAMPLES = 25  # per generated test: modest, as every case is a request (and, live, a write)
# The suite's Hypothesis profiles: what their settings mean here is known without Hypothesis.
PROFILES = {"dev": False, "ci": True}  # name -> derandomized
# The seed of a derandomized profile: every run draws the same cases.
DERANDOMIZED_SEED = 0
# Draws per case asked for, at most: generation stops at `count` distinct cases, or there when
# the space has fewer (100 draws of Schemathesis' negative strategy give about 80 distinct
# invalid bodies: drawing.py).
ATTEMPTS = 2
# Valid bodies listed rather than drawn, when the request schema has at most this many.
LISTED = 4096
# Schemathesis' security scheme is filled in by hand: any value does, the client sends its own.
_PLACEHOLDER_AUTH = "Bearer generated"


def pinned() -> ContractRegistry:
    """The packaged contract, loaded when first needed: `ghl-contract run` imports this module
    before it forks the helper, which should start as soon as it can."""
    from ghl_contract.registry import pinned as contract

    return contract()


def register_profiles() -> None:
    """The suite's Hypothesis profiles: `dev` (random) and `ci` (derandomized, no database)."""
    import hypothesis
    from hypothesis import HealthCheck

    common: dict[str, Any] = {
        "max_examples": DEFAULT_EXAMPLES,
        "deadline": None,  # a case's time is the server's, not the generator's
        "suppress_health_check": list(HealthCheck),
    }
    hypothesis.settings.register_profile("dev", **common)
    hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True,
                                         **common)


def chosen_profile(option: str | None) -> str:
    """`--hypothesis-profile` when given, else `ci` on a CI machine (`CI` set), else `dev`."""
    if option:
        return option
    return "ci" if os.environ.get("CI", "").strip().lower() not in ("", "0", "false") else "dev"


def example_count(profile: str, max_examples: int | None) -> int:
    """Cases per generated test: `--max-examples`, else the profile's."""
    if max_examples is not None:
        return max_examples
    if profile in PROFILES:
        return DEFAULT_EXAMPLES
    import hypothesis

    return int(hypothesis.settings.get_profile(profile).max_examples)


def run_seed(given: int | None, profile: str) -> int | None:
    """A run's seed: --seed, else a new one (the run prints it: --seed sends the same cases
    again); None under a derandomized profile, where every run draws the same cases."""
    if given is not None or _derandomized(profile):
        return given
    return random.SystemRandom().randrange(2**32)


def draw_seed(profile: str, seed: int | None) -> int:
    """The seed cases are drawn with: `seed`, else a fixed one under a derandomized profile,
    else a new one."""
    if seed is not None:
        return seed
    return DERANDOMIZED_SEED if _derandomized(profile) else random.SystemRandom().getrandbits(64)


def _derandomized(profile: str) -> bool:
    known = PROFILES.get(profile)
    if known is not None:
        return known
    import hypothesis

    return bool(hypothesis.settings.get_profile(profile).derandomize)


@dataclass(frozen=True)
class GeneratedCase:
    """One generated request: the estimate it converts and its body (bytes: sent as they are)."""

    estimate_id: str
    body: Any
    description: str  # what makes it a case: Schemathesis' mutation, or "valid request"

    @property
    def key(self) -> tuple[str, bytes]:
        """What makes two cases the same request: the estimate and the body's bytes."""
        return self.estimate_id, self.body if isinstance(self.body, bytes) else _encode(self.body)

    def label(self) -> str:
        body = self.body if isinstance(self.body, bytes) else _encode(self.body)
        text = body[:200].decode("utf-8", "replace")
        # A NUL or an escape sequence in a generated body is shown escaped, never sent to a
        # terminal as it is.
        shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                        for c in text) + ("…" if len(body) > 200 else "")
        return f"{self.description}: estimate {self.estimate_id}, body {shown}"


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers past 64 bits and other values only the stdlib writes
        import json

        return json.dumps(body, sort_keys=True).encode()


def aimed_request(location_id: str) -> dict[str, Any]:
    """The request schema narrowed for valid requests of a run: the documented fields only (a
    random extra field says nothing about the contract, and a live API may reject it), altId the
    run's location."""
    name = _request_name()
    schema = dict(pinned().schema(name))
    schema["additionalProperties"] = False
    schema["properties"] = {**schema["properties"],
                            "altId": {"type": "string", "const": location_id}}
    return schema


def _request_name() -> str:
    name = pinned().manifest.primary.request
    assert name is not None, "the primary operation takes a request body"
    return name


@cache
def _operation(aimed: tuple[str, tuple[str, ...]] | None = None) -> Any:
    """The operation of the contract's OpenAPI document; `aimed`: (location, estimates).

    Aimed at a run, the document is narrowed for positive generation: the request is
    `aimed_request` and estimateId one of the run's estimates. Without, it is the document as it
    ships, for negative generation (which mutates what the document declares).
    """
    import schemathesis

    from ghl_contract import openapi_doc

    document = openapi_doc.build()
    primary = pinned().manifest.primary
    if aimed is not None:
        location_id, estimate_ids = aimed
        component = openapi_doc.component_name(_request_name())
        document["components"]["schemas"][component] = aimed_request(location_id)
        operation = document["paths"][primary.path][primary.method.lower()]
        for parameter in operation["parameters"]:
            if parameter["in"] == "path":
                parameter["schema"] = {"type": "string", "enum": list(estimate_ids)}
    return schemathesis.openapi.from_dict(document)[primary.path][primary.method]


def _strategy(operation: Any, mode: str, api_version: str, **fixed: Any) -> Any:
    """Schemathesis' cases of `operation` in `mode` (positive, negative), headers fixed."""
    from schemathesis import GenerationMode

    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    return operation.as_strategy(
        generation, headers={"Version": api_version, "Authorization": _PLACEHOLDER_AUTH},
        **fixed)


def _distinct(cases: Iterable[GeneratedCase], count: int) -> Iterator[GeneratedCase]:
    """The first `count` distinct cases: the same request twice tells nothing new."""
    seen: set[tuple[str, bytes]] = set()
    for case in cases:
        key = case.key
        if key not in seen:
            seen.add(key)
            yield case
            if len(seen) == count:
                return


def valid_cases(count: int, *, estimate_ids: Sequence[str], location_id: str,
                api_version: str, profile: str, seed: int | None = None) -> list[GeneratedCase]:
    """Valid requests to the run's estimates, altId the run's location: every one when there are
    at most `count` (a seeded sample of them otherwise), else drawn by Schemathesis' positive
    generation."""
    randomness = random.Random(draw_seed(profile, seed))
    is_valid = pinned().validator(_request_name()).is_valid
    bodies = finite.instances(aimed_request(location_id), LISTED)
    if bodies is not None:
        space = [GeneratedCase(estimate_id, body, "valid request")
                 for estimate_id in estimate_ids for body in bodies if is_valid(body)]
        return randomness.sample(space, min(count, len(space)))
    name = pinned().manifest.primary.path_names[0]
    strategy = _strategy(_operation((location_id, tuple(estimate_ids))), "positive", api_version)
    drawn = drawing.drawn(strategy, ATTEMPTS * count, randomness.getrandbits(64))
    return list(_distinct((GeneratedCase(case.path_parameters[name], case.body, "valid request")
                           for case in drawn), count))


def invalid_cases(count: int, *, estimate_ids: Sequence[str], location_id: str,
                  api_version: str, profile: str, seed: int | None = None
                  ) -> list[GeneratedCase]:
    """Bodies that break the request schema (Schemathesis' negative generation), to the run's
    estimates: `count` distinct ones (fewer when the draws run out first)."""
    return list(invalid_stream(count, estimate_ids=estimate_ids, location_id=location_id,
                               api_version=api_version, profile=profile, seed=seed))


def invalid_stream(count: int, *, estimate_ids: Sequence[str], location_id: str,
                   api_version: str, profile: str, seed: int | None = None
                   ) -> Iterator[GeneratedCase]:
    """`invalid_cases`, each as soon as it is drawn."""
    from hypothesis import strategies as st

    is_valid = pinned().validator(_request_name()).is_valid
    # Path and headers fixed: only the body varies, so a case is negative in its body (a bad
    # header is test_auth's business) and goes to a known estimate.
    cases_of = _strategy(_operation(), "negative", api_version, path_parameters={
        pinned().manifest.primary.path_names[0]: estimate_ids[0]})
    drawn = drawing.drawn(st.tuples(st.sampled_from(list(estimate_ids)), cases_of),
                          ATTEMPTS * count, draw_seed(profile, seed))

    def negative() -> Iterator[GeneratedCase]:
        for estimate_id, case in drawn:
            body = case.body
            if isinstance(body, dict) and isinstance(body.get("altId"), str):
                # The mutation is elsewhere; a foreign altId would only test the location check.
                body = {**body, "altId": location_id}
            if not _is_valid(body, is_valid):  # else the override (or the generator) made it so
                yield GeneratedCase(estimate_id, body, _description(case))

    return _distinct(negative(), count)


def _is_valid(body: Any, is_valid: Callable[[Any], bool]) -> bool:
    if body is None:
        return False
    if isinstance(body, bytes):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
    return bool(is_valid(body))


def _description(case: Any) -> str:
    data = getattr(getattr(getattr(case, "meta", None), "phase", None), "data", None)
    described = getattr(data, "description", None)
    return str(described) if described else "invalid request"
