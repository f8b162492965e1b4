"""Generated requests: Schemathesis strategies over the contract's OpenAPI document, drawn up front.

Hypothesis is used here as a generator only. The cases of a test are drawn first (no request is
sent inside Hypothesis), then sent one by one through the run's client. So a live run never
replays or shrinks a write, the write budget can stop a test between two cases, a flaky server
cannot turn into a Hypothesis "Flaky" error, and the token never reaches a reproduction snippet:
the failing request is in the test's message and in the drift report instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import hypothesis
import orjson
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st

from ghl_contract import openapi_doc
from ghl_contract.registry import pinned

T = TypeVar("T")

DEFAULT_EXAMPLES = 25  # per generated test: modest, as every case is a request (and, live, a write)
# Valid cases drawn per Hypothesis example: for this small, cheap strategy most of a case's cost
# is the engine's, which a batch shares. Negative cases are drawn one by one: their cost is
# Schemathesis' mutations, and batches of them measured slower (bench/suite_vs_schemathesis.py).
BATCH = 5
# Generation draws more cases than asked for, so that duplicates and negative cases that turn
# out valid can be dropped and `count` distinct cases still sent whenever the space has that
# many: valid requests to a few estimates are a small space (and cheap to draw), invalid ones a
# large space (and dearer: Schemathesis' mutations).
OVERDRAW = {"positive": 2.0, "negative": 1.25}
# Schemathesis' security scheme is filled in by hand: any value does, the client sends its own.
_PLACEHOLDER_AUTH = "Bearer generated"


def register_profiles() -> None:
    """The suite's Hypothesis profiles: `dev` (random) and `ci` (derandomized, no database)."""
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
    return int(hypothesis.settings.get_profile(profile).max_examples)


def draw(strategy: st.SearchStrategy[T], count: int, profile: str, *, batch: int = 1,
         seed: int | None = None) -> list[T]:
    """`count` values of `strategy` (fewer when it has fewer), generated under `profile`.

    `batch` > 1 draws that many values per Hypothesis example: for a small, cheap strategy most
    of a value's cost is the engine's, which a batch shares. `seed` draws the same values again
    whatever the profile (--seed replays a run's cases).
    """
    drawn: list[T] = []
    batch = max(1, min(batch, count))
    batches = st.lists(strategy, min_size=batch, max_size=batch)

    base = hypothesis.settings.get_profile(profile)
    if seed is not None:  # a seed decides the values, whether the profile derandomizes or not
        base = hypothesis.settings(base, derandomize=False)

    @hypothesis.settings(base, max_examples=-(-count // batch), phases=(Phase.generate,),
                         database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @hypothesis.given(batches)
    def collect(values: list[T]) -> None:
        drawn.extend(values)

    (hypothesis.seed(seed)(collect) if seed is not None else collect)()
    return drawn[:count]


@dataclass(frozen=True)
class GeneratedCase:
    """One generated request: the estimate it converts and its body (bytes: sent as they are)."""

    estimate_id: str
    body: Any
    description: str  # what makes it a case: Schemathesis' mutation, or "valid request"

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


@cache
def _operation(aimed: tuple[str, tuple[str, ...]] | None = None) -> Any:
    """The operation of the contract's OpenAPI document; `aimed`: (location, estimates).

    Aimed at a run, the document is narrowed for positive generation: the body has the documented
    fields only (a random extra field says nothing about the contract, and a live API may reject
    it), altId is the run's location and estimateId one of the run's estimates. Without, it is
    the document as it ships, for negative generation (which mutates what the document declares).
    """
    import schemathesis

    document = openapi_doc.build()
    primary = pinned().manifest.primary
    if aimed is not None:
        location_id, estimate_ids = aimed
        request = document["components"]["schemas"][openapi_doc.component_name("request.json")]
        request["additionalProperties"] = False
        request["properties"]["altId"] = {"type": "string", "const": location_id}
        operation = document["paths"][primary.path][primary.method.lower()]
        for parameter in operation["parameters"]:
            if parameter["in"] == "path":
                parameter["schema"] = {"type": "string", "enum": list(estimate_ids)}
    return schemathesis.openapi.from_dict(document)[primary.path][primary.method]


def prepare(location_id: str, estimate_ids: Sequence[str]) -> None:
    """Load Schemathesis and both documents now (the first load imports most of Schemathesis)."""
    _operation((location_id, tuple(estimate_ids)))
    _operation()


def _mode(name: str) -> Any:
    from schemathesis import GenerationMode

    return GenerationMode.POSITIVE if name == "positive" else GenerationMode.NEGATIVE


def _drawn(count: int, mode: str) -> int:
    return max(count, round(count * OVERDRAW[mode]))


def _unique(cases: list[GeneratedCase], count: int) -> list[GeneratedCase]:
    """The first `count` distinct cases: the same request twice tells nothing new."""
    seen: set[tuple[str, bytes]] = set()
    unique: list[GeneratedCase] = []
    for case in cases:
        key = (case.estimate_id, case.body if isinstance(case.body, bytes) else _encode(case.body))
        if key not in seen:
            seen.add(key)
            unique.append(case)
    return unique[:count]


def valid_cases(count: int, *, estimate_ids: Sequence[str], location_id: str,
                api_version: str, profile: str, seed: int | None = None) -> list[GeneratedCase]:
    """Valid requests (positive generation) to the run's estimates, altId the run's location."""
    operation = _operation((location_id, tuple(estimate_ids)))
    strategy = operation.as_strategy(
        _mode("positive"), headers={"Version": api_version, "Authorization": _PLACEHOLDER_AUTH})
    name = pinned().manifest.primary.path_names[0]
    cases = [GeneratedCase(case.path_parameters[name], case.body, "valid request")
             for case in draw(strategy, _drawn(count, "positive"), profile, batch=BATCH,
                              seed=seed)]
    return _unique(cases, count)


def invalid_cases(count: int, *, estimate_ids: Sequence[str], location_id: str,
                  api_version: str, profile: str, seed: int | None = None
                  ) -> list[GeneratedCase]:
    """Bodies that break the request schema (negative generation), to the run's estimates."""
    validator = pinned().validator("request.json")
    # Path and headers fixed: only the body varies, so a case is negative in its body (a bad
    # header is test_auth's business) and goes to a known estimate.
    cases_of = _operation().as_strategy(
        _mode("negative"),
        path_parameters={pinned().manifest.primary.path_names[0]: estimate_ids[0]},
        headers={"Version": api_version, "Authorization": _PLACEHOLDER_AUTH})
    drawn = draw(st.tuples(st.sampled_from(list(estimate_ids)), cases_of),
                 _drawn(count, "negative"), profile, seed=seed)
    cases = []
    for estimate_id, case in drawn:
        body = case.body
        if isinstance(body, dict) and isinstance(body.get("altId"), str):
            # The mutation is elsewhere; a foreign altId would only test the location check.
            body = {**body, "altId": location_id}
        if _is_valid(body, validator.is_valid):
            continue  # the override (or the generator) made it valid: not a negative case
        cases.append(GeneratedCase(estimate_id, body, _description(case)))
    return _unique(cases, count)


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
