"""Each drift profile changes exactly what it says; each fault breaks the answer as named."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import httpx
import pytest

from ghl_contract.errors import UsageError
from ghl_contract.judge import check_body
from ghl_contract.mock import DRIFT_PROFILES, FAULT_PROFILES, MockApp, load_seed, serve
from ghl_contract.registry import pinned
from ghl_contract.resources import example_path
from ghl_contract.rules import RULES, Severity
from ghl_contract.suite.examine import Examiner, expect
from ghl_contract.transport import Exchange

SEED = load_seed()
HOME = SEED.locations[0]
DOCUMENTED = "5f9d6d8b1b2d2c001f2d9e4b"
REQUEST = json.loads(example_path("request").read_text("utf-8"))
HEADERS = {"Authorization": f"Bearer {HOME.token}", "Version": "2021-07-28"}
PATH = f"/invoices/estimate/{DOCUMENTED}/invoice"
BOUND = 5.0  # seconds: far above any wait here, far below a hung test
# The body each status's drift is seen on: the documented request, or one the schema refuses.
BODIES = {200: REQUEST, 422: {"altId": HOME.location_id}}
# Drifts seen only across answers: the first is consistent, every later one repeats it.
ACROSS = {"number-reused"}


@pytest.fixture(scope="module")
def clean_body() -> Any:
    with serve(MockApp(SEED)) as running, httpx.Client(base_url=running.url) as http:
        return http.post(PATH, headers=HEADERS, json=REQUEST).json()


def _findings(responses: list[httpx.Response], sent: Any) -> list[list[tuple[str, str]]]:
    """What a contract run's examiner finds in each of these answers, taken in order."""
    examiner = Examiner()
    found = []
    for response in responses:
        exchange = Exchange(
            method="POST", url=str(response.url), request_headers={}, request_body=b"",
            status=response.status_code,
            response_headers={name.lower(): value for name, value in response.headers.items()},
            response_body=response.content, elapsed=0.0, faults=(), write=True)
        findings = examiner.examine(exchange, expect([response.status_code]),
                                    operation=pinned().manifest.primary, request=sent,
                                    path={"estimateId": DOCUMENTED}, source="test")
        found.append([(finding.pointer, finding.rule) for finding in findings])
    return found


@pytest.mark.parametrize("name", list(DRIFT_PROFILES))
def test_drift_is_one_finding_at_its_pointer(name: str) -> None:
    profile = DRIFT_PROFILES[name]
    sent = BODIES[profile.status]
    with serve(MockApp(SEED, drift=name)) as running, httpx.Client(base_url=running.url) as http:
        drifted = [http.post(PATH, headers=HEADERS, json=sent) for _ in range(2)]
        clean = http.post(PATH, headers=HEADERS, json=BODIES[200 if profile.status != 200 else 422])
    assert [response.status_code for response in drifted] == [profile.status] * 2
    expected = [(profile.pointer, profile.rule)]
    assert _findings(drifted, sent) == [[] if name in ACROSS else expected, expected]
    # Responses of other statuses are left as they are.
    assert _findings([clean], BODIES[200]) == [[]]


@pytest.mark.parametrize("name", [name for name, profile in DRIFT_PROFILES.items()
                                  if name not in ACROSS and profile.change is not None])
def test_body_drift_is_one_finding_of_the_body_checker(name: str) -> None:
    # `check` judges a recorded body alone, without its headers or the run's other answers: a
    # drift of one body is still its one finding there.
    profile = DRIFT_PROFILES[name]
    sent = BODIES[profile.status]
    with serve(MockApp(SEED, drift=name)) as running, httpx.Client(base_url=running.url) as http:
        response = http.post(PATH, headers=HEADERS, json=sent)
    found = check_body(response.content, "response" if response.status_code == 200 else "error",
                       status=response.status_code, content_type=response.headers["content-type"],
                       request=sent, path={"estimateId": DOCUMENTED})
    assert [(finding.pointer, finding.rule) for finding in found] == \
        [(profile.pointer, profile.rule)]


@pytest.mark.parametrize("name", list(DRIFT_PROFILES))
def test_drift_apply_is_pure_and_deterministic(name: str, clean_body: Any) -> None:
    profile = DRIFT_PROFILES[name]
    body = clean_body if profile.status == 200 else {
        "statusCode": 422, "message": ["Required field /altType is missing."],
        "error": "Unprocessable Entity"}
    before = copy.deepcopy(body)
    first, second = profile.apply(body), profile.apply(body)
    assert body == before
    assert first == second
    # A drift of the headers alone leaves the body as it is.
    assert (first != body) is (profile.change is not None)


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
