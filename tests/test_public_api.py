"""The documented Python API: what scripts around the command line may rely on."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import ghl_contract


def test_the_public_names_are_the_documented_ones() -> None:
    assert sorted(ghl_contract.__all__) == ["Finding", "Report", "Severity", "check_body",
                                            "check_payload", "pinned", "run"]
    for name in ghl_contract.__all__:
        assert getattr(ghl_contract, name) is not None


def test_importing_the_package_loads_no_checker() -> None:
    # `import ghl_contract` is cheap: the judge, jsonschema-rs and the CLI load on first use.
    code = ("import sys, ghl_contract; "
            "print(sorted(m for m in ('ghl_contract.judge', 'jsonschema_rs', 'ghl_contract.cli') "
            "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


def test_check_payload_finds_a_change_at_its_pointer(documented_response: dict[str, Any]) -> None:
    assert ghl_contract.check_payload(documented_response) == []
    del documented_response["invoice"]["amountDue"]
    [finding] = ghl_contract.check_payload(documented_response)
    assert isinstance(finding, ghl_contract.Finding)
    assert (finding.pointer, finding.rule, finding.severity) == (
        "/invoice/amountDue", "missing-required", ghl_contract.Severity.BREAKING)
    assert finding.operation == "create-invoice-from-estimate"


def test_check_body_judges_an_answer_of_any_operation() -> None:
    listing = ghl_contract.pinned().operation("list-estimates")
    body = json.dumps({"estimates": "none", "total": 0, "traceId": "t"}).encode()
    [finding] = ghl_contract.check_body(body, operation=listing, status=200,
                                        content_type="application/json")
    assert (finding.pointer, finding.rule, finding.status) == ("/estimates", "type-changed", 200)
    [server] = ghl_contract.check_body(b"oops", operation=listing, status=503)
    assert server.rule == "server-error"


def test_run_is_the_command_with_its_exit_codes() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert ghl_contract.run(["run", "--max-examples", "0"], io.StringIO(), err) == 2
    assert "--max-examples must be greater than 0" in err.getvalue()
    assert ghl_contract.run(["openapi"], out, err) == 0  # the command is still the command
    assert json.loads(out.getvalue())["openapi"].startswith("3.1")
    err = io.StringIO()
    assert ghl_contract.run(["check", "/nonexistent/file.json"], io.StringIO(), err) == 2
    assert err.getvalue().startswith("error: ")
