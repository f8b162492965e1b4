"""Hostile input to `check` and the judge: deep nesting, odd file names, endless lines, huge
documents, a worker killed mid-run. Each ends in findings or one sentence with exit 2, never a
traceback, and every payload that could be read is still checked."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest

from ghl_contract.cli import run
from ghl_contract.judge import check_body

# A subprocess that has not ended by then is stuck: what a test of an endless input bounds.
ENDS_WITHIN = 120


def check(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["check", *argv], stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def check_json(*argv: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = check(*argv, "--format", "json")
    return code, json.loads(out), err


_DEEP = "@deep@"


def _deep(payload: Any, inner: bytes, levels: int) -> bytes:
    """`payload` as JSON text with its `_DEEP` value replaced by `inner` in `levels` arrays
    (written as text: no JSON writer goes that deep)."""
    return orjson.dumps(payload).replace(orjson.dumps(_DEEP),
                                         b"[" * levels + inner + b"]" * levels)


def _triples(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["source"], f["pointer"], f["rule"]) for f in report["findings"]]


def _sentence(err: str) -> str:
    """The one line a usage error prints; fails on anything else (a traceback, two lines)."""
    assert "Traceback" not in err
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    return err.removeprefix("error: ").strip()


# --- deep nesting ----------------------------------------------------------------------------

@pytest.mark.parametrize("levels", [256, 300, 1000])
@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_value_nested_hundreds_deep_is_a_finding_in_every_format(
        tmp_path: Path, documented_response: dict[str, Any], levels: int, fmt: str) -> None:
    documented_response["invoice"]["title"] = _DEEP
    path = tmp_path / "deep.json"
    path.write_bytes(_deep(documented_response, b'"INVOICE"', levels))
    code, out, err = check(str(path), "--format", fmt)
    assert (code, err) == (1, "")
    assert "nesting-too-deep" in out
    assert f"nested {levels + 2} levels deep, past the 64 levels the checker walks" in out


def test_deep_lines_are_findings_and_the_other_lines_are_still_checked(
        tmp_path: Path, documented_response: dict[str, Any]) -> None:
    deep = json.loads(json.dumps(documented_response))
    deep["invoice"]["invoiceItems"][0]["taxes"] = _DEEP
    path = tmp_path / "answers.ndjson"
    path.write_bytes(b"\n".join([orjson.dumps(documented_response), _deep(deep, b"[]", 500),
                                 orjson.dumps(documented_response)]))
    code, report, _ = check_json(str(path))
    assert code == 1
    assert report["summary"]["checked"] == 3
    assert _triples(report) == [
        (f"{path}:2", "/invoice/invoiceItems/0/taxes/0", "type-changed"),
        (f"{path}:2", "/invoice/invoiceItems/0/taxes/0", "nesting-too-deep"),
    ]


def test_the_depth_limit_is_a_named_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        documented_response: dict[str, Any]) -> None:
    documented_response["invoice"]["title"] = _DEEP
    path = tmp_path / "deep.json"
    path.write_bytes(_deep(documented_response, b'"INVOICE"', 20))
    assert [f["rule"] for f in check_json(str(path))[1]["findings"]] == ["type-changed"]
    monkeypatch.setenv("GHL_MAX_DEPTH", "10")
    code, report, _ = check_json(str(path))
    assert code == 1
    assert [f["rule"] for f in report["findings"]] == ["type-changed", "nesting-too-deep"]
    assert report["findings"][1]["expected"] == "at most 10 levels"


@pytest.mark.parametrize("value", ["0", "201", "deep"])
def test_a_depth_limit_no_check_can_use_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str,
        documented_request: dict[str, Any]) -> None:
    path = tmp_path / "request.json"
    path.write_bytes(orjson.dumps(documented_request))
    monkeypatch.setenv("GHL_MAX_DEPTH", value)
    code, out, err = check(str(path), "--kind", "request")
    assert (code, out) == (2, "")
    assert _sentence(err).startswith("GHL_MAX_DEPTH ")


def test_an_answer_nested_hundreds_deep_is_a_finding_of_the_judge(
        documented_response: dict[str, Any]) -> None:
    """What a run and a recorded HAR entry go through: the body as it travelled."""
    documented_response["estimate"]["items"] = _DEEP
    found = check_body(_deep(documented_response, b"{}", 400), "response", status=200,
                       content_type="application/json")
    assert [(f.pointer, f.rule) for f in found] == [
        ("/estimate/items/0", "type-changed"), ("/estimate/items/0", "nesting-too-deep")]


def test_json_nested_past_the_parser_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "deeper.ndjson"
    path.write_bytes(b'{"a": 1}\n' + _deep(_DEEP, b"", 2000) + b"\n")
    code, report, err = check_json(str(path), "--kind", "request")
    assert code == 2
    assert report["summary"]["checked"] == 1
    assert report["problems"] == [f"{path}:2 nests arrays or objects more than 1024 levels deep, "
                                  "past what the JSON parser reads."]
    assert _sentence(err) == report["problems"][0]


# --- file names that are not UTF-8 -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_file_name_that_is_not_utf8_is_shown_escaped(
        tmp_path: Path, fmt: str, documented_request: dict[str, Any]) -> None:
    name = os.fsdecode(b"r\xff\xfe.json")  # lone surrogates, as Python gives such a name
    (tmp_path / name).write_bytes(orjson.dumps({**documented_request, "altId": 5}))
    shown = f"{tmp_path}/r\\xff\\xfe.json"
    for given in (str(tmp_path / name), str(tmp_path)):  # named, and found in a directory
        code, out, err = check(given, "--kind", "request", "--format", fmt)
        assert (code, err) == (1, "")
        out.encode()  # nothing a UTF-8 stream cannot carry
        if fmt == "json":
            assert json.loads(out)["findings"][0]["source"] == shown
        else:  # Markdown escapes the backslashes (and underscores) of a name
            assert (shown if fmt == "text" else "r\\\\xff\\\\xfe.json") in out


def test_a_missing_path_that_is_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    code, out, err = check(str(tmp_path / os.fsdecode(b"gone\xff.json")), "--format", "json")
    assert (code, out) == (2, "")
    assert _sentence(err) == f"{tmp_path}/gone\\xff.json does not exist."


# --- lines and documents past their limits ------------------------------------------------------

def test_a_line_over_the_limit_ends_its_file_after_the_lines_before_it(
        tmp_path: Path, documented_request: dict[str, Any]) -> None:
    good = orjson.dumps(documented_request)
    path = tmp_path / "requests.ndjson"
    path.write_bytes(b"\n".join([good, good, b'"' + b"x" * 5000 + b'"', good]) + b"\n")
    other = tmp_path / "zz-other.json"
    other.write_bytes(orjson.dumps({**documented_request, "altId": 5}))
    code, report, err = check_json(str(path), str(other), "--kind", "request",
                                   "--max-line-bytes", "4K")
    assert code == 2
    assert report["summary"]["checked"] == 3  # two lines before it, and the next file
    assert _triples(report) == [(str(other), "/altId", "type-changed")]
    assert report["problems"] == [
        f"{path}:3 is longer than 4 KiB, the most a line may have (raise it with "
        f"--max-line-bytes); {path} was not read past it."]
    assert _sentence(err) == report["problems"][0]


def test_workers_stop_at_a_line_over_the_limit_where_one_process_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        documented_request: dict[str, Any]) -> None:
    from ghl_contract.cli import check as check_command

    monkeypatch.setattr(check_command, "_CHUNK_BYTES", 1000)
    monkeypatch.setattr(check_command, "_cores", lambda: 2)
    good = orjson.dumps(documented_request)
    lines = [good] * 40 + [b"[" + b"1," * 3000 + b"1]"] + [good] * 5
    path = tmp_path / "requests.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    one = check(str(path), "--kind", "request", "--format", "json", "--max-line-bytes", "4K",
                "--jobs", "1")
    two = check(str(path), "--kind", "request", "--format", "json", "--max-line-bytes", "4K",
                "--jobs", "2")
    assert two == one
    report = json.loads(one[1])
    assert (one[0], report["summary"]["checked"]) == (2, 40)
    assert report["problems"][0].startswith(f"{path}:41 is longer than 4 KiB")


class _Endless(io.RawIOBase):
    """Standard input that never ends and never breaks a line (`check - < /dev/zero`)."""

    given = 0  # bytes read from it

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = bytes(len(buffer))
        self.given += len(buffer)
        return len(buffer)


def test_endless_standard_input_is_read_no_further_than_the_line_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    endless = _Endless()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(endless)))
    code, report, err = check_json("-", "--max-line-bytes", "1M")
    assert code == 2
    assert _sentence(err) == report["problems"][0]
    assert report["problems"] == [
        "<stdin>:1 is longer than 1 MiB, the most a line may have (raise it with "
        "--max-line-bytes); <stdin> was not read past it."]
    assert endless.given <= (1 << 20) + (64 << 10)  # the limit and a buffer's worth, no more


def test_dev_zero_on_standard_input_ends_in_one_sentence() -> None:
    with Path("/dev/zero").open("rb") as zeros:
        done = subprocess.run([sys.executable, "-m", "ghl_contract", "check", "-"], stdin=zeros,
                              capture_output=True, text=True, timeout=ENDS_WITHIN, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: <stdin>:1 is longer than 16 MiB, the most a line may have")
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("suffix", [".json", ".har", ".ndjson"])
def test_a_2_gib_file_is_refused_without_being_read_whole(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"huge{suffix}"
    with path.open("wb") as out:  # sparse: no disk space, no time
        out.truncate(2 << 30)
    code, report, err = check_json(str(path))
    assert code == 2
    if suffix == ".ndjson":  # a line of 2 GiB of NUL bytes: over the line limit
        assert report["problems"] == [
            f"{path}:1 is longer than 16 MiB, the most a line may have (raise it with "
            f"--max-line-bytes); {path} was not read past it."]
    else:
        assert report["problems"] == [
            f"{path} is larger than 32 MiB, the most a .json or .har file or a document on "
            "standard input is read whole (raise it with --max-document-bytes); NDJSON is read "
            "line by line whatever its size."]
    assert _sentence(err) == report["problems"][0]


def test_a_document_on_standard_input_over_the_limit_is_one_sentence(
        monkeypatch: pytest.MonkeyPatch, documented_response: dict[str, Any]) -> None:
    pretty = json.dumps(documented_response, indent=2).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pretty), encoding="utf-8"))
    code, report, _ = check_json("-", "--max-document-bytes", "2K")
    assert code == 2
    assert report["problems"][0].startswith("<stdin> is larger than 2 KiB, the most a .json")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pretty), encoding="utf-8"))
    assert check_json("-")[0] == 0


def test_a_line_of_too_many_values_is_not_parsed_and_the_others_are(
        tmp_path: Path, documented_request: dict[str, Any]) -> None:
    good = orjson.dumps(documented_request)
    path = tmp_path / "requests.ndjson"
    path.write_bytes(b"\n".join([good, b"[" + b"[]," * 600 + b"[]]", good]) + b"\n")
    code, report, _ = check_json(str(path), "--kind", "request", "--max-values", "1000")
    assert (code, report["summary"]["checked"]) == (2, 2)
    assert report["problems"] == [
        f"{path}:2 has 1,202 brackets, commas and colons, more than the 1,000 one line, "
        "document or body may have to be parsed (raise it with --max-values)."]


@pytest.mark.parametrize("suffix", [".json", ".har", ".txt"])
def test_a_document_of_too_many_values_is_not_parsed(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"many{suffix}"
    path.write_bytes(b"[\n" + b"{},\n" * 2000 + b"{}]\n")  # .txt: read like standard input
    code, report, _ = check_json(str(path), "--max-values", "1000")
    assert (code, report["summary"]["checked"]) == (2, 0)
    assert report["problems"] == [
        f"{path} has 4,002 brackets, commas and colons, more than the 1,000 one line, "
        "document or body may have to be parsed (raise it with --max-values)."]


def test_a_har_body_of_too_many_values_is_not_parsed(tmp_path: Path) -> None:
    body = base64.b64encode(b"[" + b"1," * 2000 + b"1]").decode()  # unseen in the file's text
    entry = {"request": {"method": "POST", "url": "https://h.test/invoices/estimate/e1/invoice",
                         "postData": {"mimeType": "application/json", "text": "{}"}},
             "response": {"status": 200, "content": {"mimeType": "application/json",
                                                     "text": body, "encoding": "base64"}}}
    path = tmp_path / "capture.har"
    path.write_bytes(orjson.dumps({"log": {"entries": [entry]}}))
    code, report, _ = check_json(str(path), "--max-values", "1000")
    assert code == 2
    assert report["problems"] == [
        f"{path}#entry 1 response has 2,001 brackets, commas and colons, more than the 1,000 "
        "one line, document or body may have to be parsed (raise it with --max-values)."]


@pytest.mark.parametrize(("option", "value"), [
    ("--max-values", "0"), ("--max-values", "1M"),
    ("--max-line-bytes", "0"), ("--max-line-bytes", "lots"), ("--max-document-bytes", "-1"),
    ("--max-document-bytes", "1.5G"),
])
def test_a_limit_no_check_can_use_is_a_usage_error(
        tmp_path: Path, option: str, value: str, documented_request: dict[str, Any]) -> None:
    path = tmp_path / "request.json"
    path.write_bytes(orjson.dumps(documented_request))
    code, out, err = check(str(path), "--kind", "request", option, value)
    assert (code, out) == (2, "")
    assert _sentence(err).startswith(option)


def test_limits_come_from_the_environment_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        documented_request: dict[str, Any]) -> None:
    path = tmp_path / "request.json"
    path.write_bytes(orjson.dumps(documented_request))
    monkeypatch.setenv("GHL_MAX_DOCUMENT_BYTES", "10")
    code, report, _ = check_json(str(path), "--kind", "request")
    assert code == 2
    assert report["problems"][0].startswith(f"{path} is larger than 10 bytes")
    assert check_json(str(path), "--kind", "request", "--max-document-bytes", "1M")[0] == 0


# --- what already held: one sentence each -------------------------------------------------------

def test_a_symlink_loop_is_one_sentence(tmp_path: Path) -> None:
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    code, out, err = check(str(loop))
    assert (code, out) == (2, "")
    assert _sentence(err) == f"{loop} cannot be read (Too many levels of symbolic links)."


def test_nul_bytes_are_not_json(tmp_path: Path) -> None:
    path = tmp_path / "nul.ndjson"
    path.write_bytes(b'{"a": 1}\n\x00\x00\x00\n')
    code, report, _ = check_json(str(path), "--kind", "request")
    assert code == 2
    assert report["summary"]["checked"] == 1
    assert report["problems"][0].startswith(f"{path}:2 is not valid JSON")


# --- a worker process that dies ----------------------------------------------------------------

_KILLED_WORKER = textwrap.dedent("""
    import os, signal, sys
    from ghl_contract.cli import check as check_command, main

    real = check_command._work
    parent = os.getpid()

    def dying(task, unit):
        # a worker killed as the kernel kills one out of memory, on its third chunk
        if os.getpid() != parent and getattr(unit, "start", 1) > 2 * 40:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(task, unit)

    check_command._work = dying
    check_command._CHUNK_BYTES = 40 * {line}
    sys.argv = ["ghl-contract", "check", {path!r}, "--kind", "request", "--jobs", "2",
                "--format", "json"]
    main()
""")


def test_a_worker_that_dies_is_one_problem_and_the_command_ends(
        tmp_path: Path, documented_request: dict[str, Any]) -> None:
    line = orjson.dumps(documented_request) + b"\n"
    path = tmp_path / "requests.ndjson"
    path.write_bytes(line * 400)
    script = _KILLED_WORKER.format(line=len(line), path=str(path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=ENDS_WITHIN, check=False)
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    [problem] = report["problems"]
    # Every chunk before the first one the death cost was checked (those still in flight when it
    # died are lost with it), nothing after; the third chunk at the latest.
    checked = report["summary"]["checked"]
    assert checked in (0, 40, 80)
    assert problem == ("A worker process died (killed, perhaps for lack of memory) while "
                       f"checking {path} from line {checked + 1}: neither that nor anything "
                       "after it was checked.")
    assert done.stderr == f"error: {problem}\n"
