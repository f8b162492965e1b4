"""The contract suite catches every way the mock can break: each drift and fault profile fails the
run (exit 1) and the drift report names the profile's rule, and for a drift its JSON pointer; the
contract tests that own the rule are among the failed ones in junit.xml
(tests/data/profiles/failing_tests.json), so a hollow test cannot hide behind another that fails.

Parametrised over the mock's profile tables, so a new profile is covered as soon as it exists.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ghl_contract.findings import Severity
from ghl_contract.mock.profiles import DRIFT_PROFILES, FAULT_PROFILES, DriftProfile, FaultProfile
from ghl_contract.rules import severity
from ghl_contract.suite.testing import SuiteRun, run_suite

# Few generated cases and the CI profile: the profiles break every answer they touch, so the
# documented and hand-picked cases already see them; generation only has to run.
QUICK = ("--max-examples", "3", "--hypothesis-profile", "ci")
NON_BREAKING = [p for p in DRIFT_PROFILES.values() if severity(p.rule) is Severity.NON_BREAKING]
_DATA = json.loads((Path(__file__).resolve().parent / "data" / "profiles" / "failing_tests.json")
                   .read_text(encoding="utf-8"))
# Drift profile -> the junit.xml test cases that must fail on it.
FAILING: dict[str, list[str]] = _DATA["profiles"]
# Drift profile -> why no contract test calls its operation yet.
PENDING: dict[str, str] = _DATA.get("pending", {})


def _drifts(profiles: list[DriftProfile]) -> list[object]:
    """The profiles as parameters; a pending one a strict xfail, so catching it turns red."""
    return [pytest.param(p, id=p.name, marks=[pytest.mark.xfail(strict=True,
                                                                 reason=PENDING[p.name])]
                         if p.name in PENDING else []) for p in profiles]


def _outcomes(run: SuiteRun) -> dict[str, str]:
    """Each test case of the run's junit.xml -> passed, failure, error or skipped."""
    outcomes = {}
    for case in ET.parse(run.report_dir / "junit.xml").getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name", "")] = kinds[0] if kinds else "passed"
    return outcomes


def test_every_drift_profile_names_the_tests_that_fail_on_it() -> None:
    assert sorted([*FAILING, *PENDING]) == sorted(DRIFT_PROFILES)
    assert not set(FAILING) & set(PENDING)
    assert all(FAILING.values())


@pytest.mark.parametrize("profile", _drifts(list(DRIFT_PROFILES.values())))
def test_drift_profile_fails_the_run_at_its_pointer(profile: DriftProfile, tmp_path: Path) -> None:
    # A non-breaking drift fails a run only under --strict-drift (see the test below).
    strict = ("--strict-drift",) if severity(profile.rule) is Severity.NON_BREAKING else ()
    run = run_suite(*QUICK, *strict, "--mock-drift", profile.name, report_dir=tmp_path / "r")
    assert run.code == 1, run.output
    assert (profile.rule, profile.pointer) in run.rules()
    assert f"{profile.pointer or '(whole answer)'}  {profile.rule}" in run.stdout
    assert "Traceback" not in run.output
    outcomes = _outcomes(run)
    failing = FAILING.get(profile.name, [])
    assert {name: outcomes.get(name, "absent") for name in failing} == \
        dict.fromkeys(failing, "failure")


@pytest.mark.parametrize("profile", _drifts(NON_BREAKING))
def test_non_breaking_drift_is_reported_without_failing(profile: DriftProfile,
                                                        tmp_path: Path) -> None:
    run = run_suite(*QUICK, "--mock-drift", profile.name, report_dir=tmp_path / "r")
    assert run.code == 0, run.output
    assert (profile.rule, profile.pointer) in run.rules()
    assert run.report()["summary"]["breaking"] == 0
    outcomes = _outcomes(run)
    assert {name: outcomes.get(name, "absent") for name in FAILING[profile.name]} == \
        dict.fromkeys(FAILING[profile.name], "passed")


@pytest.mark.parametrize("profile", FAULT_PROFILES.values(), ids=lambda p: p.name)
def test_fault_profile_fails_the_run_with_its_rule(profile: FaultProfile, tmp_path: Path) -> None:
    # A short request timeout for the slow profile; the run stops once the target has left a few
    # requests in a row unanswered, so it ends in a few seconds.
    run = run_suite(*QUICK, "--request-timeout", "0.3", "--mock-fault", profile.name,
                    report_dir=tmp_path / "r")
    assert run.code == 1, run.output
    # Every request of the run writes; one left without an answer may have been carried out.
    wanted = "outcome-unknown" if profile.name == "slow" else profile.rule
    assert wanted in {rule for rule, _ in run.rules()}
    assert "Traceback" not in run.output
