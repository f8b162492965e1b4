"""`ghl-contract diff` on the command line: formats, exit codes, and bad input as one sentence."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ghl_contract.cli import run

OPENAPI = Path(__file__).parent / "data" / "diff" / "openapi"


def cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(list(argv), stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_text_report_lists_each_change_and_counts_them_exactly() -> None:
    code, out, err = cli("diff", str(OPENAPI / "base.json"), str(OPENAPI / "changed.json"),
                         "--operation", "copy-thing")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert any("request-required-removed" in line and "/altType" in line for line in lines)
    assert any("response-type-changed" in line and "/thing/tags/*" in line for line in lines)
    # request, 200, 400 and 422 compared; one breaking and one non-breaking change.
    assert lines[-1] == "4 checked: 2 findings (1 breaking, 1 non-breaking)."


def test_markdown_report_has_a_row_per_change() -> None:
    code, out, _ = cli("diff", str(OPENAPI / "base.json"), str(OPENAPI / "changed.json"),
                       "--operation", "copy-thing", "--format", "markdown")
    assert code == 1
    rows = [line for line in out.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 2


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
                 ["describes only create-invoice-from-estimate"], id="contract-has-one-operation"),
    pytest.param(["{vendor}/history/invoices-2025-07-22.json", "pinned"],
                 ["'../common/common-schemas.json#/components/schemas/", "invoices-2025-07-22.json",
                  "--ref ../common/common-schemas.json=FILE"], id="unresolved-external-ref"),
    pytest.param(["pinned", "pinned", "--ref", "common-schemas.json"], ["PATH=FILE"],
                 id="ref-without-file"),
    pytest.param(["pinned", "pinned", "--ref", "x.json={tmp}/absent.json"],
                 ["absent.json", "does not exist"], id="ref-to-missing-file"),
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
