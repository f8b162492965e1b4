"""The contract suite catches every way the mock can break: each drift and fault profile fails the
run (exit 1) and the drift report names the profile's rule, and for a drift its JSON pointer.

Parametrised over the mock's profile tables, so a new profile is covered as soon as it exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ghl_contract.findings import Severity
from ghl_contract.mock.profiles import DRIFT_PROFILES, FAULT_PROFILES, DriftProfile, FaultProfile
from ghl_contract.rules import severity
from ghl_contract.suite.testing import run_suite

# Few generated cases and the CI profile: the profiles break every answer they touch, so the
# documented and hand-picked cases already see them; generation only has to run.
QUICK = ("--max-examples", "3", "--hypothesis-profile", "ci")
NON_BREAKING = [p for p in DRIFT_PROFILES.values() if severity(p.rule) is Severity.NON_BREAKING]


@pytest.mark.parametrize("profile", DRIFT_PROFILES.values(), ids=lambda p: p.name)
def test_drift_profile_fails_the_run_at_its_pointer(profile: DriftProfile, tmp_path: Path) -> None:
    # A non-breaking drift fails a run only under --strict-drift (see the test below).
    strict = ("--strict-drift",) if severity(profile.rule) is Severity.NON_BREAKING else ()
    run = run_suite(*QUICK, *strict, "--mock-drift", profile.name, report_dir=tmp_path / "r")
    assert run.code == 1, run.output
    assert (profile.rule, profile.pointer) in run.rules()
    assert f"{profile.pointer}  {profile.rule}" in run.stdout
    assert "Traceback" not in run.output


@pytest.mark.parametrize("profile", NON_BREAKING, ids=lambda p: p.name)
def test_non_breaking_drift_is_reported_without_failing(profile: DriftProfile,
                                                        tmp_path: Path) -> None:
    run = run_suite(*QUICK, "--mock-drift", profile.name, report_dir=tmp_path / "r")
    assert run.code == 0, run.output
    assert (profile.rule, profile.pointer) in run.rules()
    assert run.report()["summary"]["breaking"] == 0


@pytest.mark.parametrize("profile", FAULT_PROFILES.values(), ids=lambda p: p.name)
def test_fault_profile_fails_the_run_with_its_rule(profile: FaultProfile, tmp_path: Path) -> None:
    # A short request timeout for the slow profile; the run stops once the target has left a few
    # requests in a row unanswered, so it ends in a few seconds.
    run = run_suite(*QUICK, "--request-timeout", "0.3", "--mock-fault", profile.name,
                    report_dir=tmp_path / "r")
    assert run.code == 1, run.output
    assert profile.rule in {rule for rule, _ in run.rules()}
    assert "Traceback" not in run.output
