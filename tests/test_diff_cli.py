"""`ghl-contract diff` on the command line: formats, --operation, --fail-on, exit codes, and bad
input as one sentence."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from ghl_contract.cli import run

OPENAPI = Path(__file__).parent / "data" / "diff" / "openapi"


def cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(list(argv), stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def upgrade(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """api.json and api-v3.json, a later version of it (the Version header of both operations
    moves to v3, the shared error body changes, copy-thing gains an optional parameter and a new
    operation appears), named as a user in their directory would name them."""
    monkeypatch.chdir(OPENAPI)
    return "api.json", "api-v3.json"


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_report_of_an_upgrade(upgrade: tuple[str, str], fmt: str,
                              snapshot: SnapshotAssertion) -> None:
    code, out, err = cli("diff", *upgrade, "--format", fmt)
    assert (code, err) == (1, "")
    assert out == snapshot


def test_text_report_gives_one_summary_line_per_operation(upgrade: tuple[str, str]) -> None:
    _, out, _ = cli("diff", *upgrade)
    lines = out.splitlines()
    assert "copy-thing (POST /things/{thingId}/copy): 5 changes (1 breaking, 4 non-breaking)" \
        in lines
    assert "list-things (GET /things): 3 changes (1 breaking, 2 non-breaking)" in lines
    assert "delete-thing (DELETE /things/{thingId}): new operation (non-breaking)" in lines
    assert lines[-1] == ("3 operations compared: 2 changed, 1 added, 0 removed, 0 without change; "
                         "9 changes (2 breaking, 7 non-breaking).")


def test_json_findings_name_their_operation(upgrade: tuple[str, str]) -> None:
    _, out, _ = cli("diff", *upgrade, "--format", "json")
    report = json.loads(out)
    assert [op["operation"] for op in report["diff"]["operations"]] == [
        "copy-thing", "list-things", "delete-thing"]
    assert {f["operation"] for f in report["findings"]} == {
        "copy-thing", "list-things", "delete-thing"}
    version = [f for f in report["findings"] if f["pointer"] == "/parameters/header/Version"
               and f["severity"] == "breaking"]
    assert [(f["operation"], f["source"], f["rule"]) for f in version] == [
        ("copy-thing", "parameters", "request-enum-value-removed"),
        ("list-things", "parameters", "request-enum-value-removed")]
    assert report["summary"]["breaking"] == 2


def test_markdown_gives_a_change_seen_in_several_bodies_one_row(upgrade: tuple[str, str]) -> None:
    _, out, _ = cli("diff", *upgrade, "--format", "markdown")
    assert "| ❌ | `copy-thing` | `POST /things/{thingId}/copy` | changed | 1 | 4 |" in out
    statuses = [line for line in out.splitlines() if "response-type-narrowed" in line]
    # copy-thing's 400 and 422 share the error body; list-things has its own section.
    assert [line.rsplit("|", 2)[-2].strip() for line in statuses] == [
        "response 400, 422", "response 422"]


@pytest.mark.parametrize(("fail_on", "exit_code"), [
    pytest.param([], 1, id="default-breaking"),
    pytest.param(["--fail-on", "breaking"], 1, id="breaking"),
    pytest.param(["--fail-on", "non-breaking"], 1, id="non-breaking"),
    pytest.param(["--fail-on", "never"], 0, id="never"),
])
def test_fail_on_sets_the_exit_code(upgrade: tuple[str, str], fail_on: list[str],
                                    exit_code: int) -> None:
    assert cli("diff", *upgrade, *fail_on)[0] == exit_code


@pytest.mark.parametrize(("fail_on", "exit_code"), [
    pytest.param("breaking", 0, id="breaking"),
    pytest.param("non-breaking", 1, id="non-breaking"),
    pytest.param("never", 0, id="never"),
])
def test_fail_on_with_only_non_breaking_changes(fail_on: str, exit_code: int) -> None:
    code, out, _ = cli("diff", str(OPENAPI / "base.json"), str(OPENAPI / "with-404.json"),
                       "--fail-on", fail_on, "--format", "json")
    report = json.loads(out)
    assert report["summary"] == {
        "checked": 7, "findings": 1, "breaking": 0, "non_breaking": 1, "problems": 0}
    assert report["diff"]["summary"] == {
        "operations": 2, "changed": 1, "added": 0, "removed": 0, "unchanged": 1}
    assert code == exit_code


def test_operation_repeats_and_limits_the_comparison(upgrade: tuple[str, str]) -> None:
    _, out, _ = cli("diff", *upgrade, "--format", "json", "--operation", "list-things",
                    "--operation", "DELETE /things/{thingId}")
    report = json.loads(out)
    assert [(op["operation"], op["change"]) for op in report["diff"]["operations"]] == [
        ("list-things", "changed"), ("delete-thing", "added")]


@pytest.mark.parametrize(("new", "exit_code"), [
    pytest.param("with-404.json", 0, id="non-breaking-only"),
    pytest.param("no-200.json", 1, id="breaking"),
    pytest.param("inlined.json", 0, id="no-change"),
])
def test_exit_code_follows_the_most_severe_change(new: str, exit_code: int) -> None:
    code, out, _ = cli("diff", str(OPENAPI / "base.json"), str(OPENAPI / new),
                       "--operation", "copy-thing", "--format", "json")
    report = json.loads(out)
    assert code == exit_code
    assert bool(report["summary"]["breaking"]) is (exit_code == 1)


def test_ref_option_maps_an_external_reference() -> None:
    unresolved = str(OPENAPI / "unresolved-ref.json")
    assert cli("diff", unresolved, unresolved, "--operation", "copy-thing")[0] == 2
    code, _, err = cli("diff", unresolved, unresolved, "--operation", "copy-thing",
                       "--ref", f"../nowhere/missing.json={OPENAPI / 'errors.json'}")
    assert (code, err) == (0, "")


def test_a_contract_against_itself_compares_every_operation_it_describes() -> None:
    code, out, err = cli("diff", "pinned", "pinned", "--format", "json")
    report: dict[str, Any] = json.loads(out)
    assert (code, err) == (0, "")
    assert report["diff"]["summary"]["operations"] >= 1
    assert report["diff"]["summary"]["unchanged"] == report["diff"]["summary"]["operations"]
    assert report["findings"] == []


@pytest.mark.parametrize(("argv", "words"), [
    pytest.param(["{tmp}/missing.json", "pinned"], ["missing.json", "does not exist"],
                 id="missing-file"),
    pytest.param(["{tmp}/broken.json", "pinned"], ["broken.json", "is not valid JSON", "line 1"],
                 id="invalid-json"),
    pytest.param(["{tmp}/not-openapi.json", "pinned"], ["not-openapi.json", "no 'paths'"],
                 id="not-an-openapi-document"),
    pytest.param(["{tmp}/swagger.json", "pinned"], ["swagger.json", "not OpenAPI 3"],
                 id="swagger-2"),
    pytest.param(["{vendor}/invoices.json", "pinned", "--operation", "create-invoice-from-estmate"],
                 ["'create-invoice-from-estmate'", "invoices.json", "create-invoice-from-estimate"],
                 id="unknown-operation"),
    pytest.param(["pinned", "pinned", "--operation", "create-invoice"],
                 ["'create-invoice' is not in the pinned contract",
                  "create-invoice-from-estimate"], id="operation-not-in-the-contract"),
    pytest.param(["{vendor}/history/invoices-2025-07-22.json", "pinned"],
                 ["'../common/common-schemas.json#/components/schemas/", "invoices-2025-07-22.json",
                  "--ref ../common/common-schemas.json=FILE"], id="unresolved-external-ref"),
    pytest.param(["pinned", "pinned", "--ref", "common-schemas.json"], ["PATH=FILE"],
                 id="ref-without-file"),
    pytest.param(["pinned", "pinned", "--ref", "x.json={tmp}/absent.json"],
                 ["absent.json", "does not exist"], id="ref-to-missing-file"),
    pytest.param(["pinned", "pinned", "--fail-on", "warning"],
                 ["--fail-on", "'warning'", "breaking", "non-breaking", "never"],
                 id="unknown-fail-on"),
    pytest.param(["pinned", "pinned", "--format", "pdf"], ["--format", "'pdf'"],
                 id="unknown-format"),
    pytest.param(["pinned"], ["NEW"], id="one-contract-only"),
])
def test_bad_input_is_one_sentence_and_exit_2(tmp_path: Path, vendor_dir: Path, argv: list[str],
                                              words: list[str]) -> None:
    (tmp_path / "broken.json").write_text('{"openapi": "3.0.0",', encoding="utf-8")
    (tmp_path / "not-openapi.json").write_text('{"type": "object"}', encoding="utf-8")
    (tmp_path / "swagger.json").write_text('{"swagger": "2.0", "paths": {}}', encoding="utf-8")
    args = [part.format(tmp=tmp_path, vendor=vendor_dir) for part in argv]
    code, out, err = cli("diff", *args)
    assert (code, out) == (2, "")
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    assert all(word in err for word in words), err


_COMMON = "../common/common-schemas.json"
_DTOS = ("BadRequestDTO", "UnauthorizedDTO", "UnprocessableDTO")


def _schemas(schema: object) -> str:
    return json.dumps({"components": {"schemas": dict.fromkeys(_DTOS, schema)}})


@pytest.mark.parametrize(("content", "words"), [
    pytest.param("[1, 2]", ["referenced.json", "an array", "not a JSON object"], id="array"),
    pytest.param('"components"', ["referenced.json", "a string"], id="string"),
    pytest.param("5", ["referenced.json", "a number"], id="number"),
    pytest.param("null", ["referenced.json", "null"], id="null"),
    pytest.param('{"components": 5}', ["#/components/schemas/", "not a JSON object"],
                 id="pointer-through-a-number"),
    pytest.param('{"components": {"schemas": [1]}}', ["#/components/schemas/", "not a JSON object"],
                 id="pointer-through-an-array"),
    pytest.param(_schemas({"type": 5}), ["referenced.json", '"type": 5'], id="type-a-number"),
    pytest.param(_schemas({"type": [["string"]]}), ["referenced.json", '"type"'],
                 id="type-a-nested-list"),
    pytest.param(_schemas({"required": "message"}), ["referenced.json", '"required"'],
                 id="required-a-string"),
    pytest.param(_schemas({"properties": [1]}), ["referenced.json", '"properties"'],
                 id="properties-an-array"),
])
@pytest.mark.parametrize("command", ["diff", "lint-vendor"])
def test_a_referenced_file_of_the_wrong_shape_is_one_sentence(
        tmp_path: Path, vendor_dir: Path, command: str, content: str, words: list[str]) -> None:
    referenced = tmp_path / "referenced.json"
    referenced.write_text(content, encoding="utf-8")
    vendor = ["pinned", str(vendor_dir / "invoices.json")] if command == "diff" else [
        str(vendor_dir / "history" / "invoices-2025-08-13.json")]
    code, out, err = cli(command, *vendor, "--ref", f"{_COMMON}={referenced}")
    assert (code, out) == (2, "")
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    assert all(word in err for word in words), err


@pytest.mark.parametrize(("content", "kind"), [
    pytest.param("[1, 2]", "an array", id="array"),
    pytest.param('"openapi"', "a string", id="string"),
    pytest.param("3.1", "a number", id="number"),
    pytest.param("null", "null", id="null"),
])
@pytest.mark.parametrize("command", ["diff", "lint-vendor"])
def test_a_document_that_is_not_an_object_is_one_sentence(tmp_path: Path, command: str,
                                                          content: str, kind: str) -> None:
    document = tmp_path / "vendor.json"
    document.write_text(content, encoding="utf-8")
    code, out, err = cli(command, *(["pinned"] if command == "diff" else []), str(document))
    assert (code, out) == (2, "")
    assert err == (f"error: The file {document} is not an OpenAPI document (it is {kind}, "
                   "not a JSON object).\n")
