"""`ghl-contract check` through `cli.run`: inputs, exit codes, --strict, usage errors, workers."""

from __future__ import annotations

import io
import json
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest

from ghl_contract.cli import check as check_command
from ghl_contract.cli import run

INPUTS = Path(__file__).resolve().parent / "data" / "check" / "inputs"
HAR = json.loads((INPUTS.parent / "har.json").read_text(encoding="utf-8"))


def check(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(["check", *argv], stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def check_json(*argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = check(*argv, "--format", "json")
    return code, json.loads(out)


def _write_json(path: Path, payload: Any) -> Path:
    path.write_bytes(orjson.dumps(payload))
    return path


def _triples(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f["source"], f["pointer"], f["rule"]) for f in report["findings"]]


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Call with bytes: they become this process's standard input."""
    def feed(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    return feed


def test_documented_response_holds(tmp_path: Path, documented_response: dict[str, Any]) -> None:
    path = _write_json(tmp_path / "response.json", documented_response)
    assert check(str(path)) == (0, "1 checked: no findings.\n", "")


def test_added_field_is_printed_but_passes(tmp_path: Path,
                                          documented_response: dict[str, Any]) -> None:
    documented_response["invoice"]["paymentLink"] = "https://example.test/pay/1"
    path = _write_json(tmp_path / "response.json", documented_response)
    code, out, _ = check(str(path))
    assert code == 0
    assert "non-breaking  property-added  /invoice/paymentLink" in out


def test_strict_fails_on_an_added_field(tmp_path: Path,
                                        documented_response: dict[str, Any]) -> None:
    documented_response["invoice"]["paymentLink"] = "https://example.test/pay/1"
    path = _write_json(tmp_path / "response.json", documented_response)
    assert check(str(path), "--strict")[0] == 1


def test_breaking_change_fails(tmp_path: Path, documented_response: dict[str, Any]) -> None:
    del documented_response["invoice"]["amountDue"]
    path = _write_json(tmp_path / "response.json", documented_response)
    code, report = check_json(str(path))
    assert code == 1
    assert _triples(report) == [(str(path), "/invoice/amountDue", "missing-required")]


def test_a_json_array_is_one_payload_not_a_list(tmp_path: Path) -> None:
    path = _write_json(tmp_path / "response.json", [])
    code, report = check_json(str(path))
    assert code == 1
    assert _triples(report) == [(str(path), "", "type-changed")]


def test_a_bad_ndjson_line_is_named_and_the_others_still_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INPUTS)
    code, out, err = check("requests.ndjson", "--kind", "request", "--format", "json")
    report = json.loads(out)
    assert code == 2
    assert report["problems"] == [
        "requests.ndjson:3 is not valid JSON (unexpected end of data at column 80)."]
    assert err == f"error: {report['problems'][0]}\n"
    assert report["summary"]["checked"] == 4
    assert _triples(report) == [
        ("requests.ndjson:2", "/altId", "missing-required"),
        ("requests.ndjson:2", "/locationId", "property-added"),
        ("requests.ndjson:5", "/markAsInvoiced", "type-changed"),
        ("requests.ndjson:5", "/version", "enum-value-unknown"),
    ]


def test_problems_win_over_breaking_findings_in_the_exit_code(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INPUTS)
    code, report = check_json("requests.ndjson", "--kind", "request", "--strict")
    assert (code, report["summary"]["breaking"]) == (2, 3)


def test_a_directory_is_read_in_name_order(tmp_path: Path,
                                           documented_request: dict[str, Any]) -> None:
    _write_json(tmp_path / "b.json", documented_request)
    (tmp_path / "a.ndjson").write_bytes(orjson.dumps(documented_request) + b"\n\n"
                                        + orjson.dumps({**documented_request, "x": 1}) + b"\n")
    (tmp_path / "c.jsonl").write_bytes(orjson.dumps({"altType": "location"}) + b"\n")
    (tmp_path / "notes.txt").write_text("not read", encoding="utf-8")
    (tmp_path / "sub.json").mkdir()
    _write_json(tmp_path / "sub.json" / "deeper.json", {"not": "read"})
    code, report = check_json(str(tmp_path), "--kind", "request")
    assert code == 1
    assert report["summary"]["checked"] == 4
    assert _triples(report) == [
        (str(tmp_path / "a.ndjson") + ":3", "/x", "property-added"),
        (str(tmp_path / "c.jsonl") + ":1", "/altId", "missing-required"),
        (str(tmp_path / "c.jsonl") + ":1", "/markAsInvoiced", "missing-required"),
    ]


def test_har_entries_of_this_operation_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INPUTS)
    code, report = check_json(HAR["file"])
    assert code == 1
    assert report["summary"]["checked"] == HAR["checked"]
    assert report["notes"] == HAR["notes"]
    assert report["problems"] == []
    keys = ("source", "pointer", "rule", "severity", "status")
    assert [{k: f.get(k) for k in keys} for f in report["findings"]] == HAR["findings"]


def _entry(url: str, headers: list[dict[str, str]]) -> dict[str, Any]:
    answer = '{"statusCode": 404, "message": "Invoice not found"}'
    return {"request": {"method": "GET", "url": url, "headers": headers},
            "response": {"status": 404, "headers": [],
                         "content": {"mimeType": "application/json", "text": answer}}}


def test_har_request_parameters_are_judged_headers_only_where_recorded(tmp_path: Path) -> None:
    """A Version the API does not accept and a missing altId are found at their parameters; an
    entry whose headers were not recorded is not said to lack Version."""
    base = "https://services.leadconnectorhq.com/invoices/6578278e879ad2646715ba9c"
    path = _write_json(tmp_path / "app.har", {"log": {"entries": [
        _entry(f"{base}?altType=location", [{"name": "version", "value": "2021-04-15"}]),
        _entry(f"{base}?altId=l-1&altType=location", []),
    ]}})
    code, report = check_json(str(path))
    assert code == 1
    assert [(f["source"].rsplit("#", 1)[1], f["pointer"], f["rule"]) for f in report["findings"]
            if f["source"].endswith("request")] == [
        ("entry 1 request", "/header/Version", "enum-value-unknown"),
        ("entry 1 request", "/query/altId", "missing-required")]


def _invoice_entry(url: str) -> dict[str, Any]:
    """A GET of an invoice answered with something that is no invoice (an app's own API)."""
    answer = '{"id": 7, "customer": "ACME"}'
    return {"request": {"method": "GET", "url": url,
                        "headers": [{"name": "Version", "value": "2021-07-28"}]},
            "response": {"status": 200, "headers": [],
                         "content": {"mimeType": "application/json", "text": answer}}}


def test_base_url_judges_only_the_har_entries_of_that_api(tmp_path: Path) -> None:
    """A browser's capture holds the application's own API too: under --base-url only the
    entries under it are judged, paths read from it; without it, a note names the hosts."""
    api = "https://services.leadconnectorhq.com"
    path = _write_json(tmp_path / "browser.har", {"log": {"entries": [
        _invoice_entry("https://myapp.example/api/invoices/7"),
        _invoice_entry(f"{api}/invoices/6578278e879ad2646715ba9c?altId=l-1&altType=location"),
    ]}})
    code, everything = check_json(str(path))
    assert code == 1
    assert {f["source"].split("#")[1].split(" ")[1] for f in everything["findings"]} == {"1", "2"}
    assert any("entries of 2 hosts were judged (myapp.example, services.leadconnectorhq.com)"
               in note for note in everything["notes"])
    code, scoped = check_json(str(path), "--base-url", api + "/")
    assert code == 1  # the HighLevel answer is no invoice either
    assert {f["source"].split("#")[1] for f in scoped["findings"]} == {"entry 2 response"}
    assert any("1 entry not under https://services.leadconnectorhq.com/ skipped" in note
               for note in scoped["notes"])
    code, out, err = check(str(path), "--base-url", "services.leadconnectorhq.com")
    assert (code, out) == (2, "")
    assert err == ("error: --base-url 'services.leadconnectorhq.com' is not an http(s) URL "
                   "with a host.\n")


def test_base_url_with_a_path_reads_entry_paths_from_it(tmp_path: Path) -> None:
    gateway = "https://gateway.example/highlevel"
    path = _write_json(tmp_path / "gw.har", {"log": {"entries": [
        _invoice_entry(f"{gateway}/invoices/6578278e879ad2646715ba9c?altId=l-1&altType=location"),
        _invoice_entry("https://gateway.example/highlevel-old/invoices/1?altId=l&altType=location"),
    ]}})
    code, report = check_json(str(path), "--base-url", gateway)
    assert code == 1
    assert {f["source"].split("#")[1] for f in report["findings"]} == {"entry 1 response"}
    assert {f["operation"] for f in report["findings"]} == {"get-invoice"}


def test_har_without_entries_is_an_input_problem(tmp_path: Path) -> None:
    path = _write_json(tmp_path / "run.har", {"log": {"version": "1.2"}})
    code, out, err = check(str(path))
    assert code == 2
    assert out == ""  # nothing was checked: one sentence, on stderr
    assert err == f"error: {path} is not a HAR file: it has no log.entries list.\n"


def test_kind_is_taken_from_har_entries_not_from_the_option(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INPUTS)
    assert check_json(HAR["file"], "--kind", "estimate")[1]["findings"] == check_json(
        HAR["file"])[1]["findings"]


def test_stdin_ndjson(stdin: Any, documented_request: dict[str, Any]) -> None:
    stdin(orjson.dumps(documented_request) + b"\n"
          + orjson.dumps({**documented_request, "altType": "agency"}) + b"\n")
    code, report = check_json("-", "--kind", "request")
    assert code == 1
    assert _triples(report) == [("<stdin>:2", "/altType", "enum-value-unknown")]


def test_stdin_one_pretty_printed_document(stdin: Any,
                                           documented_response: dict[str, Any]) -> None:
    del documented_response["estimate"]["traceId"]
    stdin(b"\n" + json.dumps(documented_response, indent=2).encode())
    code, report = check_json("-")
    assert code == 1
    assert _triples(report) == [("<stdin>", "/estimate/traceId", "missing-required")]


def test_stdin_with_a_bad_first_line_is_still_ndjson(stdin: Any,
                                                     documented_request: dict[str, Any]) -> None:
    stdin(b"{oops}\n" + orjson.dumps({**documented_request, "version": "v9"}) + b"\n")
    code, report = check_json("-", "--kind", "request")
    assert code == 2
    assert report["problems"] == [
        "<stdin>:1 is not valid JSON (unexpected character, expected a string key at column 2)."]
    assert _triples(report) == [("<stdin>:2", "/version", "enum-value-unknown")]


def test_other_suffixes_are_read_like_stdin(tmp_path: Path,
                                            documented_request: dict[str, Any]) -> None:
    path = tmp_path / "capture.log"
    path.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(documented_request) + b"\n"
                     + orjson.dumps({**documented_request, "markAsInvoiced": None}) + b"\n")
    code, report = check_json(str(path), "--kind", "request")
    assert code == 1
    assert _triples(report) == [(f"{path}:2", "/markAsInvoiced", "null-not-allowed")]


def test_an_unreadable_file_is_reported_and_the_rest_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        documented_request: dict[str, Any]) -> None:
    locked = _write_json(tmp_path / "a.json", documented_request)
    _write_json(tmp_path / "b.json", {**documented_request, "altId": 5})
    real = Path.open

    def opened(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == locked:  # root reads any file whatever its mode: refuse it here
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", opened)
    code, report = check_json(str(tmp_path), "--kind", "request")
    assert code == 2
    assert report["problems"] == [f"{locked} cannot be read (Permission denied)."]
    assert _triples(report) == [(str(tmp_path / "b.json"), "/altId", "type-changed")]


@pytest.mark.parametrize(("make", "problem"), [
    pytest.param(lambda tmp: tmp / "missing.json", "{path} does not exist.", id="missing"),
    pytest.param(lambda tmp: tmp / "unlisted", "The directory {path} cannot be listed "
                 "(Permission denied).", id="unlistable-directory"),
    pytest.param(lambda tmp: tmp / "empty", "The directory {path} holds no .json, .ndjson, "
                 ".jsonl, .har file.", id="empty-directory"),
])
def test_a_path_with_nothing_to_read_comes_after_the_readable_ones_are_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, documented_request: dict[str, Any],
        make: Any, problem: str) -> None:
    (tmp_path / "unlisted").mkdir()
    (tmp_path / "empty").mkdir()
    real = Path.iterdir

    def iterdir(self: Path) -> Any:
        if self.name == "unlisted":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    bad = str(make(tmp_path))
    first = _write_json(tmp_path / "first.json", {**documented_request, "altId": 5})
    last = _write_json(tmp_path / "last.json", documented_request)
    code, out, err = check(str(first), bad, str(last), "--kind", "request", "--format", "json")
    report = json.loads(out)
    assert code == 2
    assert report["summary"]["checked"] == 2
    assert _triples(report) == [(str(first), "/altId", "type-changed")]
    assert report["problems"] == [problem.format(path=bad)]
    assert err == f"error: {problem.format(path=bad)}\n"
    code, out, err = check(str(first), bad, "--kind", "request")
    assert (code, err) == (2, "")
    assert out.endswith(f"Input problems:\n  {problem.format(path=bad)}\n\n"
                        "1 checked: 1 finding (1 breaking, 0 non-breaking), 1 input problem.\n")


def test_an_empty_input_is_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "empty.ndjson").write_bytes(b"\n  \n")
    code, out, err = check(str(tmp_path / "empty.ndjson"))
    assert code == 2
    assert out == ""
    assert err.startswith("error: Nothing was checked")


@pytest.mark.parametrize(("status", "kind", "body", "code"), [
    pytest.param("422", None, {"statusCode": 422, "message": ["bad"], "error": "x"}, 0,
                 id="status-alone-means-error"),
    pytest.param("422", None, {"statusCode": 422, "message": "bad", "error": "x"}, 1,
                 id="422-message-must-be-a-list"),
    pytest.param("400", "error", {"statusCode": 400, "message": "bad"}, 0, id="error-400"),
    pytest.param("401", "error", {"statusCode": 401, "message": "no"}, 0,
                 id="error-401-without-error-is-fair"),
    pytest.param("401", "error", {"statusCode": 401, "message": ["no"]}, 1,
                 id="error-401-message-must-be-a-string"),
    pytest.param(None, "error", {"statusCode": 409, "message": ["x"]}, 0,
                 id="error-without-status-any-error-shape"),
])
def test_error_bodies_by_status(tmp_path: Path, status: str | None, kind: str | None,
                                body: dict[str, Any], code: int) -> None:
    path = _write_json(tmp_path / "error.json", body)
    argv = [str(path)] + (["--status", status] if status else []) + (
        ["--kind", kind] if kind else [])
    assert check(*argv)[0] == code


@pytest.mark.parametrize("argv", [
    pytest.param([], id="no-path"),
    pytest.param(["missing.json"], id="missing-path"),
    pytest.param(["{empty}"], id="empty-directory"),
    pytest.param(["-", "-"], id="stdin-twice"),
    pytest.param(["{request}", "--kind", "quote"], id="unknown-kind"),
    pytest.param(["{request}", "--format", "xml"], id="unknown-format"),
    pytest.param(["{request}", "--status", "99"], id="status-out-of-range"),
    pytest.param(["{request}", "--status", "abc"], id="status-not-a-number"),
    pytest.param(["{request}", "--status", "422", "--kind", "request"], id="status-with-request"),
    pytest.param(["{request}", "--status", "500", "--kind", "response"],
                 id="status-with-response"),
    pytest.param(["{request}", "--jobs", "0"], id="no-jobs"),
])
def test_usage_errors_are_one_sentence_and_exit_2(tmp_path: Path, argv: list[str],
                                                  documented_request: dict[str, Any]) -> None:
    (tmp_path / "empty").mkdir()
    request = _write_json(tmp_path / "request.json", documented_request)
    argv = [a.replace("{empty}", str(tmp_path / "empty")).replace("{request}", str(request))
            for a in argv]
    code, out, err = check(*argv)
    assert (code, out) == (2, "")
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker pools `check` starts, by their number of workers; chunks are made small (16 kB)
    so that a few payloads give each worker several, and four cores are assumed."""
    started: list[int] = []

    class Counted(ProcessPoolExecutor):
        def __init__(self, workers: int, **kwargs: Any) -> None:
            started.append(workers)
            super().__init__(workers, **kwargs)

    monkeypatch.setattr(check_command, "ProcessPoolExecutor", Counted)
    monkeypatch.setattr(check_command, "_CHUNK_BYTES", 16_000)
    monkeypatch.setattr(check_command, "_cores", lambda: 4)  # two workers even on one core
    return started


def _mixed_lines(documented_response: dict[str, Any]) -> list[bytes]:
    """120 lines: documented responses, drifted ones, lines that are not JSON, blank lines."""
    drifted = json.loads(json.dumps(documented_response))
    drifted["invoice"]["status"] = "pending"
    lines = []
    for number in range(120):
        if number % 37 == 5:
            lines.append(b'{"estimate": ')
        elif number % 10 == 3:
            lines.append(orjson.dumps(drifted))
        elif number % 25 == 0:
            lines.append(b"")
        else:
            lines.append(orjson.dumps(documented_response))
    return lines


def test_workers_report_exactly_what_one_process_reports(
        tmp_path: Path, pools: list[int], documented_response: dict[str, Any]) -> None:
    path = tmp_path / "many.ndjson"
    # a byte-order mark first and no line break last, as some tools write them
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(_mixed_lines(documented_response)))
    one = check(str(path), "--format", "json", "--jobs", "1")
    assert pools == []
    two = check(str(path), "--format", "json", "--jobs", "2")
    assert pools == [2]
    assert two == one
    report = json.loads(one[1])
    assert one[0] == 2
    assert report["summary"]["findings"] == 12
    assert [p.split(" ")[0] for p in report["problems"]] == [
        f"{path}:{n}" for n in (6, 43, 80, 117)]


def test_workers_check_standard_input_as_one_process_does(
        stdin: Any, pools: list[int], documented_response: dict[str, Any]) -> None:
    data = b"\n".join(_mixed_lines(documented_response)) + b"\n"
    stdin(data)
    one = check("-", "--format", "json", "--jobs", "1")
    stdin(data)
    two = check("-", "--format", "json", "--jobs", "2")
    assert (pools, two) == ([2], one)
    assert json.loads(one[1])["summary"]["checked"] == 111


def test_workers_check_a_directory_of_small_files_as_one_process_does(
        tmp_path: Path, pools: list[int], documented_response: dict[str, Any]) -> None:
    for number, line in enumerate(_mixed_lines(documented_response)):
        (tmp_path / f"{number:03}.json").write_bytes(line)
    one = check(str(tmp_path), "--format", "json", "--jobs", "1")
    two = check(str(tmp_path), "--format", "json", "--jobs", "2")
    assert (pools, two) == ([2], one)
    report = json.loads(one[1])
    assert (report["summary"]["checked"], len(report["problems"])) == (111, 9)


@pytest.mark.parametrize(("requested", "cores", "sizes", "workers"), [
    pytest.param(10**14, 4, [9], 1, id="huge-one-chunk"),
    pytest.param(10**14, 4, [27], 3, id="huge-bounded-by-chunks"),
    pytest.param(10**14, 4, [9, 9, 9], 3, id="huge-bounded-by-the-chunks-of-all-files"),
    pytest.param(10**14, 2, [450], 2, id="huge-bounded-by-cores"),
    pytest.param(3, 8, [450], 3, id="within-bounds"),
    pytest.param(None, 8, [450], 1, id="default-small-file"),
    pytest.param(None, 2, [450, None], 2, id="default-with-standard-input"),
    pytest.param(1, 2, [None], 1, id="one-job-with-standard-input"),
])
def test_jobs_never_exceed_the_cores_or_the_chunks(
        monkeypatch: pytest.MonkeyPatch, requested: int | None, cores: int,
        sizes: list[int | None], workers: int) -> None:
    monkeypatch.setattr(check_command, "_CHUNK_BYTES", 9)
    monkeypatch.setattr(check_command, "_cores", lambda: cores)
    monkeypatch.setattr(check_command, "_fork_safe", lambda: True)
    assert check_command._jobs(requested, sizes) == workers


def test_an_absurd_jobs_value_starts_no_worker_for_a_small_file(
        tmp_path: Path, pools: list[int]) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'{"a":1}\n')
    code, report = check_json(str(path), "--jobs", "99999999999999")
    assert (pools, report["summary"]["checked"], code) == ([], 1, 1)


def test_copy_of_a_har_in_a_directory_is_found(tmp_path: Path) -> None:
    shutil.copy(INPUTS / HAR["file"], tmp_path / "run.har")
    code, report = check_json(str(tmp_path))
    assert (code, report["summary"]["checked"]) == (1, HAR["checked"])


def test_ndjson_lines_get_exactly_the_findings_of_the_judge(tmp_path: Path) -> None:
    """`check`'s loop over lines (no object per valid payload) against `check_payload` itself,
    on every response case of the rule data."""
    from ghl_contract.judge import check_payload
    from test_check_rules import RULE_DATA, _base, apply_changes

    cases = [case for case in RULE_DATA["cases"] + RULE_DATA["clean"]
             if case["kind"] == "response" and "status" not in case
             and not any("nest" in op for op in case["change"])]  # no JSON writer nests so deep
    payloads = [apply_changes(_base(case["base"]), case["change"]) for case in cases]
    path = tmp_path / "cases.ndjson"
    path.write_bytes(b"\n".join(json.dumps(p).encode() for p in payloads))
    code, report = check_json(str(path))
    assert code == 1
    expected = [finding.to_dict() for number, payload in enumerate(payloads, 1)
                for finding in check_payload(payload, source=f"{path}:{number}")]
    assert report["summary"]["checked"] == len(cases) > 50
    assert report["findings"] == json.loads(json.dumps(expected))


def test_a_file_that_is_no_payload_is_one_sentence(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nOne sentence.\nTwo.\nThree.\nFour.\n\n```json\n{\"a\": 1}\n"
                      "```\n" * 20, encoding="utf-8")
    code, out, err = check(str(readme))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: {readme} is neither JSON nor NDJSON: its line 1 is not JSON")
