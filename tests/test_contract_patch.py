"""A contract teams extend without forking it (--contract-patch, --schemas) and fair verdicts on
errors: the same patch turns the same finding off in `run`, `check` and `openapi`; a patch that
does not apply is one sentence; the observed patch makes a first run against what the live API
does useful; a documented error status is never breaking drift."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghl_contract.cli import run
from ghl_contract.judge import check_body
from ghl_contract.mock.app import MockApp
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.server import Running, serve
from ghl_contract.registry import packaged, use_contract
from ghl_contract.resources import schemas_dir
from ghl_contract.suite.examine import REJECTED
from ghl_contract.suite.testing import run_suite

PATCHES = Path(__file__).resolve().parent / "data" / "patches"
SENT_TO = str(PATCHES / "sent-to-optional.json")
HOME = load_seed().locations[0]
QUICK = ("--max-examples", "3", "--hypothesis-profile", "ci")


@pytest.fixture(autouse=True)
def _packaged_contract() -> Iterator[None]:
    """Each test starts, and leaves the process, with the packaged contract."""
    use_contract()
    yield
    use_contract()


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def observed_mock() -> Iterator[Running[MockApp]]:
    """The mock answering as the live API was seen to: estimates without sentTo, meta..., an
    invoiced estimate not invoiced again."""
    with serve(MockApp(load_seed(), profile="observed", rate_limit=(100_000, 10.0))) as running:
        yield running


def _live(running: Running[MockApp], *extra: str) -> tuple[str, ...]:
    return ("--base-url", running.url, "--token", HOME.token, "--location-id", HOME.location_id,
            "--allow-writes", "--max-writes", "200", *QUICK, *extra)


def test_a_patch_turns_the_same_finding_off_in_check_and_openapi(
        documented_response: dict[str, Any], tmp_path: Path) -> None:
    del documented_response["estimate"]["sentTo"]
    payload = tmp_path / "response.json"
    payload.write_text(json.dumps(documented_response), encoding="utf-8")
    code, out, _ = _cli("check", str(payload), "--format", "json")
    assert code == 1
    assert [(f["rule"], f["pointer"]) for f in json.loads(out)["findings"]] == [
        ("missing-required", "/estimate/sentTo")]
    code, out, _ = _cli("check", str(payload), "--contract-patch", SENT_TO)
    assert code == 0, out
    for patch, required in ((None, True), (SENT_TO, False)):
        argv = ["openapi", *(["--contract-patch", patch] if patch else [])]
        code, out, _ = _cli(*argv)
        assert code == 0
        estimate = json.loads(out)["components"]["schemas"]["estimate"]
        assert ("sentTo" in estimate["required"]) is required


def test_a_patch_turns_the_same_finding_off_in_a_run(observed_mock: Running[MockApp],
                                                     tmp_path: Path) -> None:
    plain = run_suite(*_live(observed_mock), report_dir=tmp_path / "plain")
    assert ("missing-required", "/estimate/sentTo") in plain.rules()
    patched = run_suite(*_live(observed_mock, "--contract-patch", SENT_TO),
                        report_dir=tmp_path / "patched")
    assert ("missing-required", "/estimate/sentTo") not in patched.rules()
    assert ("missing-required", "/estimate/meta") in patched.rules()  # only what it changed


def test_the_observed_patch_makes_a_run_against_the_live_behaviour_hold(
        observed_mock: Running[MockApp], tmp_path: Path) -> None:
    # The observed mock also refuses to invoice an estimate twice: a run that creates one
    # estimate per marked conversion never meets that refusal, and leaves nothing behind.
    run = run_suite(*_live(observed_mock, "--contract-patch", "observed", "--require-complete"),
                    report_dir=tmp_path / "reports")
    assert run.code == 0, run.output
    assert run.report()["summary"]["findings"] == 0
    assert [i["_id"] for i in observed_mock.app.store.invoices()] == []


@pytest.mark.parametrize(("patch", "words"), [
    pytest.param(str(PATCHES / "does-not-apply.json"), "operation 1 (remove "
                 "/estimate.json/properties/noSuchField) does not apply", id="does-not-apply"),
    pytest.param(str(PATCHES / "invalid-schema.json"), "leaves estimate.json an invalid schema "
                 "at /properties/total/type", id="invalid-schema"),
    pytest.param(str(PATCHES / "nothing-here.json"), "does not exist", id="missing-file"),
])
def test_a_patch_that_cannot_be_applied_is_one_sentence(patch: str, words: str) -> None:
    for argv in (["check", "-", "--contract-patch", patch], ["openapi", "--contract-patch", patch],
                 ["run", "--contract-patch", patch]):
        code, out, err = _cli(*argv)
        assert code == 2, (argv, out, err)
        assert err.startswith("error: --contract-patch "), err
        assert words in err, err
        assert err.count("\n") == 1


def test_a_whole_contract_directory_replaces_the_packaged_one(tmp_path: Path) -> None:
    contract = tmp_path / "contract"
    shutil.copytree(schemas_dir(), contract)
    estimate = json.loads((contract / "estimate.json").read_text(encoding="utf-8"))
    estimate["required"].remove("sentTo")
    (contract / "estimate.json").write_text(json.dumps(estimate), encoding="utf-8")
    code, out, _ = _cli("openapi", "--schemas", str(contract))
    assert code == 0
    assert "sentTo" not in json.loads(out)["components"]["schemas"]["estimate"]["required"]
    assert "sentTo" in packaged().schema("estimate.json")["required"]
    code, _, err = _cli("openapi", "--schemas", str(tmp_path / "none"))
    assert code == 2
    assert err.startswith("error: ")


# Fair verdicts on errors (schemas/decisions/statuses.json, the error DTOs require no field).

def test_a_401_with_only_status_code_and_message_is_no_drift() -> None:
    body = b'{"statusCode": 401, "message": "Invalid token"}'
    assert check_body(body, status=401, content_type="application/json") == []


def test_an_unknown_estimate_answered_with_the_documented_400_is_no_breaking_finding() -> None:
    body = b'{"statusCode": 400, "message": "No estimate found with id 0000"}'
    found = check_body(body, status=400, content_type="application/json",
                       expect=REJECTED)
    assert [f for f in found if f.breaking] == []


@pytest.mark.parametrize(("status", "rule"), [(500, "server-error"), (200, "unexpected-status")])
def test_a_5xx_or_a_2xx_to_an_invalid_body_stays_breaking(status: int, rule: str) -> None:
    found = check_body(b'{"statusCode": 500, "message": "boom"}', status=status,
                       content_type="application/json", expect=REJECTED)
    assert rule in {f.rule for f in found if f.breaking}
