"""Each drift profile changes exactly what it says; each fault breaks the answer as named."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghl_contract.errors import UsageError
from ghl_contract.findings import Finding
from ghl_contract.judge import check_body
from ghl_contract.mock import DRIFT_PROFILES, FAULT_PROFILES, MockApp, load_seed, serve
from ghl_contract.mock import profiles as profile_file
from ghl_contract.mock.patch import Unreachable
from ghl_contract.mock.testing import Caller, drifted_answer
from ghl_contract.operations import Operation
from ghl_contract.registry import pinned
from ghl_contract.resources import example_path
from ghl_contract.rules import RULES, Severity
from ghl_contract.suite.examine import Examiner, expect
from ghl_contract.transport import Exchange

SEED = load_seed()
HOME = SEED.locations[0]
MANIFEST = pinned().manifest
DOCUMENTED = "5f9d6d8b1b2d2c001f2d9e4b"
REQUEST = json.loads(example_path("request").read_text("utf-8"))
HEADERS = {"Authorization": f"Bearer {HOME.token}", "Version": "2021-07-28"}
PATH = f"/invoices/estimate/{DOCUMENTED}/invoice"
BOUND = 5.0  # seconds: far above any wait here, far below a hung test
# Drifts seen only across answers: the first is consistent, every later one repeats it.
ACROSS = {"number-reused", "estimate-number-reused"}


def _declared(found: list[Finding]) -> list[tuple[str, str]]:
    return [(f.pointer, f.rule) for f in found]


@dataclass(frozen=True)
class Answer:
    """An answer of the mock and what was sent for it, as a run would judge it."""

    operation: Operation
    response: httpx.Response
    sent: Any
    path: dict[str, str]


def _scenario(operation_id: str, status: int) -> Callable[[Caller], Answer]:
    def answer(caller: Caller) -> Answer:
        response, sent, path = drifted_answer(caller, operation_id, status)
        return Answer(MANIFEST.get(operation_id), response, sent, path)
    return answer


# How a test gets an answer of each (operation, status) a drift profile changes.
SCENARIOS: dict[tuple[str, int], Callable[[Caller], Answer]] = {
    pair: _scenario(*pair) for pair in (
        ("create-invoice-from-estimate", 200), ("create-invoice-from-estimate", 422),
        ("create-new-estimate", 201), ("get-invoice", 200), ("list-estimates", 200))}


@contextmanager
def caller(**options: Any) -> Iterator[Caller]:
    with serve(MockApp(SEED, **options)) as running, \
            httpx.Client(base_url=running.url, timeout=BOUND) as http:
        yield Caller(http, HOME.token, HOME.location_id)


def _findings(answers: list[Answer]) -> list[list[tuple[str, str]]]:
    """What a contract run's examiner finds in each of these answers, taken in order."""
    examiner = Examiner()
    found = []
    for answer in answers:
        response = answer.response
        exchange = Exchange(
            method=answer.operation.method, url=str(response.url), request_headers={},
            request_body=b"", status=response.status_code,
            response_headers={name.lower(): value for name, value in response.headers.items()},
            response_body=response.content, elapsed=0.0, faults=(), write=answer.operation.writes)
        findings = examiner.examine(exchange, expect([response.status_code]),
                                    operation=answer.operation, request=answer.sent,
                                    path=answer.path, source="test")
        found.append(_declared(findings))
    return found


def test_every_drift_has_a_scenario() -> None:
    assert {(p.operation, p.status) for p in DRIFT_PROFILES.values()} <= set(SCENARIOS)


@pytest.mark.parametrize("name", list(DRIFT_PROFILES))
def test_drift_is_one_finding_at_its_pointer(name: str) -> None:
    profile = DRIFT_PROFILES[name]
    scenario = SCENARIOS[(profile.operation, profile.status)]
    with caller(drift=name) as home:
        drifted = [scenario(home) for _ in range(2)]
        # The answers of every other operation and status are left as they are.
        clean = [other(home) for key, other in SCENARIOS.items() if other is not scenario]
    assert [answer.response.status_code for answer in drifted] == [profile.status] * 2
    expected = [(profile.pointer, profile.rule)]
    assert _findings(drifted) == [[] if name in ACROSS else expected, expected]
    # Each judged alone: the examiner keeps one memory of numbers for invoices and estimates.
    assert [_findings([answer]) for answer in clean] == [[[]]] * len(clean)


@pytest.mark.parametrize("name", [name for name, profile in DRIFT_PROFILES.items()
                                  if name not in ACROSS and profile.patch])
def test_body_drift_is_one_finding_of_the_body_checker(name: str) -> None:
    # `check` judges a recorded body alone, without its headers or the run's other answers: a
    # drift of one body is still its one finding there.
    profile = DRIFT_PROFILES[name]
    with caller(drift=name) as home:
        answer = SCENARIOS[(profile.operation, profile.status)](home)
    response = answer.response
    found = check_body(response.content, operation=answer.operation,
                       status=response.status_code, content_type=response.headers["content-type"],
                       request=answer.sent, path=answer.path)
    assert _declared(found) == [(profile.pointer, profile.rule)]


@pytest.mark.parametrize("name", list(DRIFT_PROFILES))
def test_drift_apply_is_pure_and_deterministic(name: str) -> None:
    profile = DRIFT_PROFILES[name]
    with caller() as home:
        body = SCENARIOS[(profile.operation, profile.status)](home).response.json()
    before = copy.deepcopy(body)
    first, second = profile.apply(body), profile.apply(body)
    assert body == before
    assert first == second
    # A drift of the headers alone leaves the body as it is.
    assert (first != body) is bool(profile.patch)


def test_a_drift_leaves_an_answer_that_lacks_its_place_as_it_is() -> None:
    # Under the observed profile a list has no traceId: a drift removing it changes nothing.
    profile = DRIFT_PROFILES["removed-required"]
    body = {"estimate": {}, "invoice": {}}
    assert profile.apply(body) == body
    with pytest.raises(Unreachable):
        DRIFT_PROFILES["changed-type"].change(body)


def test_a_drift_counts_the_answers_it_changed() -> None:
    with serve(MockApp(SEED, drift="read-back-discount-dropped")) as running, \
            httpx.Client(base_url=running.url, timeout=BOUND) as http:
        home = Caller(http, HOME.token, HOME.location_id)
        SCENARIOS["create-invoice-from-estimate", 200](home)
        assert running.app.drifted == 0
        SCENARIOS["get-invoice", 200](home)
        assert running.app.drifted == 1


def test_profiles_name_known_rules_and_describe_themselves() -> None:
    for profile in (*DRIFT_PROFILES.values(), *FAULT_PROFILES.values()):
        assert profile.rule in RULES, profile.name
        assert profile.description.endswith("."), profile.name
    non_breaking = [p.name for p in DRIFT_PROFILES.values()
                    if RULES[p.rule].severity is Severity.NON_BREAKING]
    assert non_breaking == ["added-field", "rate-limit-headers-dropped"]


def test_unknown_profile_names_are_usage_errors() -> None:
    with pytest.raises(UsageError, match=r"^Unknown drift profile 'nope'; choose one of "):
        MockApp(SEED, drift="nope")
    with pytest.raises(UsageError, match=r"^Unknown fault profile 'nope'; choose one of "):
        MockApp(SEED, fault="nope")
    with pytest.raises(UsageError, match=r"^Unknown behaviour profile 'nope'; choose one of "
                                         r"documented, observed\.$"):
        MockApp(SEED, profile="nope")


@pytest.mark.parametrize(("entry", "says"), [
    ({"rule": "no-such-rule"}, "names the unknown rule 'no-such-rule'"),
    ({"operation": "no-such-operation"}, "names the operation 'no-such-operation', which the "
                                         "manifest does not have"),
    ({"status": 418}, "changes 418 answers, which get-invoice does not document"),
    ({"patch": []}, "changes nothing"),
    ({"patch": [{"op": "transform", "path": "/total", "transform": "nope"}]},
     "the transform 'nope' is not one of"),
    ({"description": "No full stop"}, "is not valid at /drifts/0/description"),
], ids=["unknown-rule", "unknown-operation", "undocumented-status", "no-change",
        "unknown-transform", "description-not-a-sentence"])
def test_a_broken_profile_file_fails_with_its_entry(
        entry: dict[str, Any], says: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    drift = {"name": "mine", "operation": "get-invoice", "status": 200, "rule": "total-mismatch",
             "pointer": "/total", "description": "Mine.",
             "patch": [{"op": "remove", "path": "/discount"}], **entry}
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"drifts": [drift], "faults": []}), "utf-8")
    monkeypatch.setattr(profile_file, "PROFILES", path)
    with pytest.raises(RuntimeError, match=re.escape(says)):
        profile_file._load()


# What each fault does to the documented request's answer: (status, Content-Type, whether the
# request was carried out), for the faults that let an answer through.
ANSWERS = {
    "server-error": (500, "application/json; charset=utf-8", False),
    "truncated-json": (200, "application/json; charset=utf-8", True),
    "html": (200, "text/html; charset=utf-8", False),
    "wrong-content-type": (200, "text/plain; charset=utf-8", True),
    "empty-body": (200, "application/json; charset=utf-8", True),
}


@pytest.mark.parametrize("name", list(ANSWERS))
def test_fault_answer_is_flagged_with_its_rule(name: str) -> None:
    status, content_type, processes = ANSWERS[name]
    profile = FAULT_PROFILES[name]
    assert profile.processes is processes
    with serve(MockApp(SEED, fault=name)) as running, \
            httpx.Client(base_url=running.url, timeout=BOUND) as http:
        response = http.post(PATH, headers=HEADERS, json=REQUEST)
        unauthenticated = http.post(PATH, headers={"Version": "2021-07-28"}, json=REQUEST)
        listed = http.get("/__mock__/invoices")
    assert (response.status_code, response.headers["content-type"]) == (status, content_type)
    assert [f.rule for f in check_body(response.content, status=response.status_code,
                                       content_type=content_type)] == [profile.rule]
    # Every request to the endpoint is faulted, refused ones too.
    assert unauthenticated.status_code == (401 if processes else status)
    assert [f.rule for f in check_body(
        unauthenticated.content, "response" if unauthenticated.status_code == 200 else "error",
        status=unauthenticated.status_code,
        content_type=unauthenticated.headers["content-type"])] == [profile.rule]
    assert "x-ratelimit-remaining" in response.headers
    # The mock's own route is never faulted; it tells whether an invoice was created.
    assert len(listed.json()) == (1 if processes else 0)


def _read_all(response: httpx.Response, into: bytearray) -> None:
    for chunk in response.iter_raw():
        into.extend(chunk)


def test_reset_drops_the_connection_mid_answer(caplog: pytest.LogCaptureFixture) -> None:
    with serve(MockApp(SEED, fault="reset")) as running, \
            httpx.Client(base_url=running.url, timeout=BOUND) as http:
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|closed"):
            http.post(PATH, headers=HEADERS, json=REQUEST)
        assert time.monotonic() - started < BOUND
        assert len(running.app.store.invoices()) == 1  # carried out; the answer was lost
        with http.stream("POST", PATH, headers=HEADERS, json=REQUEST) as streamed:
            announced = int(streamed.headers["content-length"])
            received = bytearray()
            with pytest.raises(httpx.RemoteProtocolError):
                _read_all(streamed, received)
        assert 0 < len(received) < announced
    # The server drops the connection on purpose: nothing is logged about it.
    assert [record.getMessage() for record in caplog.records] == []


def test_slow_answers_after_the_delay_and_a_timeout_ends_it() -> None:
    app = MockApp(SEED, fault="slow", fault_delay=0.5)
    with serve(app) as running:
        with httpx.Client(base_url=running.url, timeout=0.1) as impatient, \
                pytest.raises(httpx.ReadTimeout):
            impatient.post(PATH, headers=HEADERS, json=REQUEST)
        with httpx.Client(base_url=running.url, timeout=BOUND) as patient:
            started = time.monotonic()
            response = patient.post(PATH, headers=HEADERS, json=REQUEST)
            waited = time.monotonic() - started
    assert response.status_code == 200
    assert 0.5 <= waited < BOUND
    # The impatient client hung up before the delay was over: nothing was carried out for it.
    assert [i["invoiceNumber"] for i in app.store.invoices()] == ["1"]


def test_slow_fault_does_not_hold_the_server_at_shutdown(
        caplog: pytest.LogCaptureFixture) -> None:
    started = time.monotonic()
    with serve(MockApp(SEED, fault="slow")) as running, \
            httpx.Client(base_url=running.url, timeout=0.2) as http, \
            pytest.raises(httpx.ReadTimeout):
        http.post(PATH, headers=HEADERS, json=REQUEST)
    assert time.monotonic() - started < BOUND  # the 15 s delay was not waited out
    assert [record.getMessage() for record in caplog.records] == []
