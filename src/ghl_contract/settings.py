"""What one contract run is told: target, credentials, budgets. Options and environment, one place.

Every option has an environment variable so that CI can configure a run without a command line.
The pytest plugin and `ghl-contract run` both build a `RunSettings` from the same table.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ghl_contract.errors import UsageError

DEFAULT_API_VERSION = "2021-07-28"
LIVE_BASE_URL = "https://services.leadconnectorhq.com"
SANDBOX_RATE = "25/10s"  # sandbox and trial tokens: 25 requests per 10 s


@dataclass(frozen=True)
class Option:
    """One run option: its flag, environment variable, default and help."""

    flag: str
    env: str
    default: str | None
    help: str
    is_flag: bool = False  # a switch: present or `1/true/yes` in the environment

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("--base-url", "GHL_BASE_URL", None,
           "API to test; default: the embedded mock on an ephemeral loopback port."),
    Option("--token", "GHL_TOKEN", None, "Bearer token (OAuth access token or Private Integration "
           "Token); never printed."),
    Option("--location-id", "GHL_LOCATION_ID", None, "Location (sub-account) id the token owns."),
    Option("--estimate-id", "GHL_ESTIMATE_ID", None,
           "Live: an estimate the run must use; it is converted once at most, without "
           "markAsInvoiced. Without it, a run with --allow-writes creates the estimates it "
           "converts."),
    Option("--other-location-id", "GHL_OTHER_LOCATION_ID", None,
           "A location the token may not access, for the 403 tests."),
    Option("--other-estimate-id", "GHL_OTHER_ESTIMATE_ID", None,
           "An estimate of another location, for the 403 test of a foreign estimate."),
    Option("--api-version", "GHL_API_VERSION", DEFAULT_API_VERSION, "Version header to send."),
    Option("--compare-version", "GHL_COMPARE_VERSION", None,
           "Also send the documented request with this Version header and report where the two "
           "answers differ in shape."),
    Option("--max-examples", "GHL_MAX_EXAMPLES", None,
           "Generated cases per generated test (default: the Hypothesis profile's, 25; at most "
           "1000)."),
    Option("--seed", "GHL_SEED", None,
           "Seed of the generated cases: the same seed sends the same requests again (the run "
           "prints and records the seed it used)."),
    Option("--report-dir", "GHL_REPORT_DIR", None,
           "Write junit.xml, drift-report.json and drift-report.md here."),
    Option("--strict-drift", "GHL_STRICT_DRIFT", None,
           "Fail on non-breaking drift (added fields) too.", is_flag=True),
    Option("--schemas", "GHL_SCHEMAS", None,
           "A whole contract directory (schemas and operations/) instead of the packaged one."),
    Option("--contract-patch", "GHL_CONTRACT_PATCH", None,
           "An RFC 6902 JSON Patch over the contract (schemas/patches/README.md), or `observed` "
           "for what the live API was seen to do."),
    Option("--baseline", "GHL_BASELINE", None,
           "A baseline file (`ghl-contract baseline`): the findings it lists are acknowledged, "
           "shown and counted but never failing."),
    Option("--strict-baseline", "GHL_STRICT_BASELINE", None,
           "Also fail when an entry of --baseline no longer occurs (so that the file shrinks).",
           is_flag=True),
    Option("--allow-writes", "GHL_ALLOW_WRITES", None,
           "Live mode: allow requests that can create or change data.", is_flag=True),
    Option("--max-writes", "GHL_MAX_WRITES", "5",
           "Live mode: most write requests a run sends, retries included (a write: any request "
           "to an operation that creates or changes data, whatever its token; cleanup is not "
           "counted)."),
    Option("--cleanup", "GHL_CLEANUP", "delete",
           "Live mode: what becomes of what the run created, at its end or when it is stopped: "
           "delete, void (invoices; a draft HighLevel will not void is deleted) or none."),
    Option("--require-complete", "GHL_REQUIRE_COMPLETE", None,
           "Fail the run when a contract test was skipped for want of a write (no --allow-writes, "
           "or the --max-writes budget).", is_flag=True),
    Option("--rate-limit", "GHL_RATE_LIMIT", None,
           f"Client-side request rate, e.g. 100/10s (live default {SANDBOX_RATE})."),
    Option("--request-timeout", "GHL_REQUEST_TIMEOUT", "10", "Seconds per request."),
    Option("--run-timeout", "GHL_RUN_TIMEOUT", "600", "Seconds for the whole run."),
    Option("--record", "GHL_RECORD_DIR", None,
           "Keep every exchange, redacted, as a HAR file in this directory."),
    Option("--mock-drift", "GHL_MOCK_DRIFT", None,
           "Embedded mock only: serve it under this drift profile (see `ghl-contract mock "
           "--list-profiles`)."),
    Option("--mock-fault", "GHL_MOCK_FAULT", None,
           "Embedded mock only: serve it under this fault profile."),
)

# --- The limits of one exchange: what a hostile or broken server can make a run wait for or
# hold. Each overrun is a finding of the exchange (timeout, body-too-large), never a hang.
EXCHANGE_LIMITS: tuple[Option, ...] = (
    Option("--header-timeout", "GHL_HEADER_TIMEOUT", "10",
           "Seconds an answer's status line and headers may take, 1xx answers included (within "
           "--request-timeout, which bounds the whole exchange)."),
    Option("--max-body", "GHL_MAX_BODY", "16MiB",
           "Most bytes of an answer's body read as it travels (e.g. 16MiB, 500kB)."),
    Option("--max-decoded-body", "GHL_MAX_DECODED_BODY", "16MiB",
           "Most bytes of an answer's body once its gzip or deflate is undone: a decompression "
           "bomb stops there."),
    Option("--max-recorded-body", "GHL_MAX_RECORDED_BODY", "1MiB",
           "Most bytes of each body kept in a --record HAR file; a longer one is cut there and "
           "says so."),
)
OPTIONS = (*OPTIONS, *EXCHANGE_LIMITS)
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3,
          "gib": 1024**3}


def parse_size(name: str, text: str) -> int:
    """`"16MiB"` -> 16777216 bytes (B, kB, KiB, MB, MiB, GB, GiB; a bare number is bytes)."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{name} {text!r} is not a size such as 16MiB, 500kB or 1048576.")
    size = int(match.group(1)) * _UNITS[(match.group(2) or "b").lower()]
    if size < 1:
        raise UsageError(f"{name} must be greater than 0, not {text}.")
    return size
# --- (end of the exchange limits)

_TRUE = {"1", "true", "yes", "on"}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


def parse_rate(text: str, name: str = "--rate-limit") -> tuple[int, float]:
    """`"25/10s"` -> (25 requests, 10.0 seconds); `name`: the option or variable it came from."""
    match = _RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise UsageError(f"{name} {text!r} is not of the form N/10s (requests per period).")
    count, period, unit = int(match.group(1)), float(match.group(2)), match.group(3) or "s"
    seconds = period / 1000 if unit == "ms" else period * 60 if unit == "m" else period
    if seconds <= 0:
        raise UsageError(f"{name} {text!r} has an empty period.")
    return count, seconds


def _positive(name: str, text: str, kind: type[int] | type[float], *,
              zero: bool = False) -> float:
    """`text` as a finite number above 0 (or 0 too, with `zero`); else a UsageError."""
    try:
        value = kind(text)
    except ValueError:
        raise UsageError(f"{name} {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise UsageError(f"{name} {text!r} is not a finite number.")
    if value < 0 or (value == 0 and not zero):
        least = "0 or more" if zero else "greater than 0"
        raise UsageError(f"{name} must be {least}, not {text}.")
    return value


_HTTP_URL = re.compile(r"https?://[^/\s]+(/\S*)?")


def is_http_url(text: str) -> bool:
    """Whether `text` is an absolute http(s) URL with a host and no whitespace."""
    return _HTTP_URL.fullmatch(text) is not None


# Cases per generated test at most: each is a request (a write, live), drawn before the test
# sends any (about 10 ms each for the invalid ones), so a run stays within minutes.
MAX_EXAMPLES = 1000


def _examples(name: str, text: str) -> int:
    count = int(_positive(name, text, int))
    if count > MAX_EXAMPLES:
        raise UsageError(f"{name} {count} is more than the {MAX_EXAMPLES} cases a generated test "
                         "sends at most (each is a request, and live a write).")
    return count


def _seed(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{name} {text!r} is not a whole number.") from None
    if not 0 <= value < 2**64:
        raise UsageError(f"{name} {text} is out of range (0 to 2**64 - 1).")
    return value


CLEANUP_MODES = ("delete", "void", "none")


def _cleanup_mode(name: str, text: str) -> str:
    if text not in CLEANUP_MODES:
        raise UsageError(f"{name} {text!r} is not one of {', '.join(CLEANUP_MODES)}.")
    return text


# What an HTTP header value can carry, and a Bearer token is made of (RFC 6750's token68): a
# value outside it could not be sent, and would be printed by the error that says so.
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_HEADER_VALUE = re.compile(r"[\x21-\x7e]+")


def _header_value(name: str, value: str | None, pattern: re.Pattern[str], shown: bool) -> None:
    if value is None or pattern.fullmatch(value):
        return
    if not shown:  # a token is never printed, not even here
        raise UsageError(f"{name} is not a Bearer token: letters, digits and -._~+/ only, "
                         "with = at the end at most.")
    raise UsageError(f"{name} {value!r} has a character an HTTP header cannot carry (a space, "
                     "a control character or a non-ASCII letter).")


@dataclass(frozen=True)
class RunSettings:
    """A validated run configuration. `base_url` None means the embedded mock."""

    base_url: str | None = None
    token: str | None = field(default=None, repr=False)
    location_id: str | None = None
    estimate_id: str | None = None
    other_location_id: str | None = None
    other_estimate_id: str | None = None
    api_version: str = DEFAULT_API_VERSION
    compare_version: str | None = None
    max_examples: int | None = None
    schemas: Path | None = None
    contract_patch: str | None = None
    seed: int | None = None
    report_dir: Path | None = None
    strict_drift: bool = False
    baseline: Path | None = None
    strict_baseline: bool = False
    allow_writes: bool = False
    max_writes: int = 5
    cleanup: str = "delete"
    require_complete: bool = False
    rate_limit: tuple[int, float] | None = None
    request_timeout: float = 10.0
    run_timeout: float = 600.0
    record_dir: Path | None = None
    mock_drift: str | None = None  # embedded mock only: names checked where the mock is started
    mock_fault: str | None = None
    # The exchange limits (EXCHANGE_LIMITS).
    header_timeout: float = 10.0
    max_body: int = 16 * 1024**2
    max_decoded_body: int = 16 * 1024**2
    max_recorded_body: int = 1024**2

    @property
    def live(self) -> bool:
        """Any base URL is live: it is not the embedded mock, so writes are real."""
        return self.base_url is not None

    @property
    def effective_rate_limit(self) -> tuple[int, float] | None:
        if self.rate_limit is not None:
            return self.rate_limit
        return parse_rate(SANDBOX_RATE) if self.live else None

    @classmethod
    def from_values(cls, values: Mapping[str, str | bool | None],
                    environ: Mapping[str, str] | None = None) -> RunSettings:
        """Options (by dest) override environment variables, which override defaults."""
        environ = os.environ if environ is None else environ
        raw: dict[str, str | bool | None] = {}
        named: dict[str, str] = {}  # each value's source, as a message names it: flag or variable
        for option in OPTIONS:
            value = values.get(option.dest)
            named[option.dest] = option.flag
            if isinstance(value, str) and not value.strip():
                # `--base-url "$URL"` with URL unset: not a run against the embedded mock.
                raise UsageError(f"{option.flag} is empty; give it a value or leave it out.")
            if value in (None, False):
                env = environ.get(option.env)
                if env is not None and not env.strip() and option.dest in _NEVER_EMPTY:
                    # GHL_BASE_URL set from a secret that is missing: not a run against the
                    # embedded mock that passes for a run against the sandbox.
                    raise UsageError(f"{option.env} is set but empty; give it a value or unset "
                                     "it.")
                if env not in (None, ""):
                    named[option.dest] = option.env
                if option.is_flag:
                    value = env is not None and env.strip().lower() in _TRUE
                else:
                    value = env if env not in (None, "") else option.default
            raw[option.dest] = value
        settings = cls(
            base_url=str(raw["base_url"]).rstrip("/") if raw["base_url"] else None,
            token=str(raw["token"]) if raw["token"] else None,
            location_id=str(raw["location_id"]) if raw["location_id"] else None,
            estimate_id=str(raw["estimate_id"]) if raw["estimate_id"] else None,
            other_location_id=str(raw["other_location_id"]) if raw["other_location_id"] else None,
            other_estimate_id=str(raw["other_estimate_id"]) if raw["other_estimate_id"] else None,
            api_version=str(raw["api_version"]),
            compare_version=str(raw["compare_version"]) if raw["compare_version"] else None,
            max_examples=(_examples(named["max_examples"], str(raw["max_examples"]))
                          if raw["max_examples"] else None),
            seed=_seed(named["seed"], str(raw["seed"])) if raw["seed"] else None,
            report_dir=Path(str(raw["report_dir"])) if raw["report_dir"] else None,
            schemas=Path(str(raw["schemas"])) if raw["schemas"] else None,
            contract_patch=str(raw["contract_patch"]) if raw["contract_patch"] else None,
            strict_drift=bool(raw["strict_drift"]),
            baseline=Path(str(raw["baseline"])) if raw["baseline"] else None,
            strict_baseline=bool(raw["strict_baseline"]),
            allow_writes=bool(raw["allow_writes"]),
            max_writes=int(_positive(named["max_writes"], str(raw["max_writes"]), int,
                                     zero=True)),
            cleanup=_cleanup_mode(named["cleanup"], str(raw["cleanup"])),
            require_complete=bool(raw["require_complete"]),
            rate_limit=(parse_rate(str(raw["rate_limit"]), named["rate_limit"])
                        if raw["rate_limit"] else None),
            request_timeout=_positive(named["request_timeout"], str(raw["request_timeout"]),
                                      float),
            run_timeout=_positive(named["run_timeout"], str(raw["run_timeout"]), float),
            record_dir=Path(str(raw["record"])) if raw["record"] else None,
            mock_drift=str(raw["mock_drift"]) if raw["mock_drift"] else None,
            mock_fault=str(raw["mock_fault"]) if raw["mock_fault"] else None,
            header_timeout=_positive(named["header_timeout"], str(raw["header_timeout"]), float),
            max_body=parse_size(named["max_body"], str(raw["max_body"])),
            max_decoded_body=parse_size(named["max_decoded_body"], str(raw["max_decoded_body"])),
            max_recorded_body=parse_size(named["max_recorded_body"],
                                         str(raw["max_recorded_body"])),
        )
        settings.validate(named)
        given = [option.flag for option in OPTIONS
                 if option.dest in _LIVE_ONLY and values.get(option.dest) not in (None, False)]
        if given and not settings.live:
            # `run --token T --location-id L --estimate-id E` without --base-url: a user who
            # meant a live run would otherwise get a green run against the embedded mock.
            names, several = ", ".join(given), len(given) > 1
            raise UsageError(f"{names} {'apply' if several else 'applies'} to a run against "
                             "--base-url; without it the run tests the embedded mock (add "
                             f"--base-url, or leave {'them' if several else 'it'} out).")
        return settings

    def validate(self, named: Mapping[str, str]) -> None:
        """Raise a UsageError for a value no run can use; `named`: where each value came from
        (its flag or its environment variable, by dest), for the message."""
        # The token is only sent to a live URL: one left in the environment for other jobs does
        # not stop a run against the embedded mock.
        _header_value(named["token"], self.token if self.live else None, _TOKEN68, shown=False)
        _header_value(named["api_version"], self.api_version, _HEADER_VALUE, shown=True)
        _header_value(named["compare_version"], self.compare_version, _HEADER_VALUE, shown=True)
        if self.base_url is not None and not is_http_url(self.base_url):
            raise UsageError(f"{named['base_url']} {self.base_url!r} is not an http(s) URL.")
        if self.live and (self.mock_drift or self.mock_fault):
            flag = "--mock-drift" if self.mock_drift else "--mock-fault"
            raise UsageError(f"{flag} applies to the embedded mock only; drop it or --base-url.")
        if self.strict_baseline and self.baseline is None:
            raise UsageError(f"{named['strict_baseline']} needs --baseline FILE.")
        if self.compare_version is not None and self.compare_version == self.api_version:
            raise UsageError(
                f"--compare-version {self.compare_version} is the run's --api-version already; "
                "name another Version to compare with."
            )
        if self.live:
            missing = [
                f"{opt.flag} ({opt.env})"
                for opt, value in (
                    (_option("--token"), self.token),
                    (_option("--location-id"), self.location_id),
                )
                if not value
            ]
            if missing:
                raise UsageError(
                    f"A run against {self.base_url} needs {', '.join(missing)}; nothing was sent."
                )


# Variables whose empty value would silently change what the run tests.
_NEVER_EMPTY = frozenset({"base_url"})

# Options that only mean something against a live base URL (their environment variables may stay
# set for other jobs: only options given on the command line are refused without --base-url).
_LIVE_ONLY = frozenset({"token", "location_id", "estimate_id", "other_location_id",
                        "other_estimate_id", "allow_writes"})


def _option(flag: str) -> Option:
    return next(option for option in OPTIONS if option.flag == flag)


# Input limits: how much of an input `check` reads into memory at once, how many values it
# parses at once, and how deep a payload that breaks the contract is walked (in `check` and in a
# run alike). Each is a named setting with a default and an environment variable; `check` also
# takes the byte and value limits as options. A larger value costs memory: a line or document is
# read whole (held twice while its pieces are joined) and parsed whole, at 2 to 4 times its size
# for captured payloads and about 100 bytes a value for JSON made of tiny values.
@dataclass(frozen=True)
class Limit:
    """One input limit: its environment variable, `check` option (if any), default and unit."""

    env: str
    flag: str | None
    default: int
    unit: str  # "bytes", "levels" or "" (a count)
    help: str
    maximum: int | None = None

    def value(self, given: str | None = None, environ: Mapping[str, str] | None = None) -> int:
        """`given` (from the command line), else the environment variable, else the default."""
        if given is not None:
            return self._parse(str(self.flag), given)
        text = (os.environ if environ is None else environ).get(self.env, "")
        return self._parse(self.env, text) if text.strip() else self.default

    def shown(self, value: int) -> str:
        """`value` as a message says it: 16 MiB, 64 levels."""
        if self.unit != "bytes":
            return f"{value:,} {self.unit}".rstrip()
        for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
            if value >= 1 << shift and value % (1 << (shift - 4)) == 0:
                return f"{value / (1 << shift):g} {unit}"
        return f"{value} bytes"

    def _parse(self, name: str, text: str) -> int:
        match = _LIMIT.fullmatch(text.upper()) if self.unit == "bytes" else None
        try:
            value = (int(match.group(1)) << _SHIFTS[match.group(2)] if match
                     else int(text.strip()))
        except ValueError:
            raise UsageError(f"{name} {text!r} is not a whole number"
                             f"{' (or one with K, M or G)' if self.unit == 'bytes' else ''}."
                             ) from None
        if value < 1:
            raise UsageError(f"{name} must be 1 or more, not {text.strip()}.")
        if self.maximum is not None and value > self.maximum:
            raise UsageError(f"{name} {value} is more than the {self.shown(self.maximum)} it "
                             "can be.")
        return value


_LIMIT = re.compile(r"\s*(\d+)\s*([KMG]?)(?:I?B)?\s*")
_SHIFTS = {"": 0, "K": 10, "M": 20, "G": 30}

MAX_DEPTH = Limit(
    "GHL_MAX_DEPTH", None, 64, "levels",
    "Arrays and objects nested deeper than this in a payload that breaks the contract are one "
    "nesting-too-deep finding, not walked further (the documented payloads nest 6 levels; at "
    "most 200, as jsonschema-rs and the JSON reports stop at 255).", maximum=200)
MAX_LINE_BYTES = Limit(
    "GHL_MAX_LINE_BYTES", "--max-line-bytes", 16 << 20, "bytes",
    "Longest line of an NDJSON file or of standard input (K, M, G: binary units); a longer line "
    "is an input error, and its file is not read past it.")
MAX_DOCUMENT_BYTES = Limit(
    "GHL_MAX_DOCUMENT_BYTES", "--max-document-bytes", 32 << 20, "bytes",
    "Largest .json or .har file, or JSON document on standard input, each read whole (K, M, G: "
    "binary units); NDJSON is read line by line whatever its size.")
MAX_VALUES = Limit(
    "GHL_MAX_VALUES", "--max-values", 1_000_000, "",
    "Most brackets, commas and colons (about two a value) one line, document or HAR body may "
    "have to be parsed: what parsing costs in memory grows with its values, up to some 100 "
    "bytes for each of these, not with its length (the documented answer has 326).")
LIMITS: tuple[Limit, ...] = (MAX_DEPTH, MAX_LINE_BYTES, MAX_DOCUMENT_BYTES, MAX_VALUES)
