"""The contract suite's pytest plugin: its options, fixtures, plan, reports and summary.

The plugin is registered wherever ghl-contract is installed (the pytest11 entry point), so it keeps
quiet in any session that does not run the contract suite: it only adds options and markers. A
session runs the suite when its arguments point into the packaged `contract_tests/` directory (or
it collects a test from there); only then are the settings validated, the Hypothesis profiles
registered, the plan printed and the reports written. The embedded mock starts when a contract
test first asks for the `ghl` fixture.
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ghl_contract.errors import UsageError
from ghl_contract.resources import contract_tests_dir
from ghl_contract.settings import OPTIONS, Option, RunSettings

if TYPE_CHECKING:
    # The suite's machinery (httpx, Schemathesis, the mock) is imported only by a session that
    # runs the suite: every other pytest session on the machine loads this plugin too.
    from ghl_contract.suite.ahead import Ahead
    from ghl_contract.suite.context import Probe, RunContext
    from ghl_contract.suite.reports import Outcome
    from ghl_contract.suite.target import Outline

MARKER = "ghl_requests"
MARKER_HELP = (f"{MARKER}(requests=1, writes=1, generated=None, converts=False): what a "
               "contract test sends, for the run's plan (generated: 'valid' or 'invalid', the "
               "kind of generated cases it sends, each a write; converts: it reads the shared "
               "documented conversion of its estimate, or of every estimate).")

NEEDS = "ghl_needs"
NEEDS_HELP = (f"{NEEDS}(what): a contract test that runs only when the run knows `what` "
              "(other_location, other_estimate, compare_version).")
# Contract tests run in this order: those that send no write first (they cost no write budget,
# and a target that does not answer is noticed on them), then by module: conversions first (the
# documented one, then generated ones), so that a live run's write budget goes to requests that
# exercise the whole contract before the error cases.
ORDER = ("test_examples.py", "test_invariants.py", "test_versions.py", "test_properties.py",
         "test_auth.py", "test_negative.py")


@dataclass
class SuiteState:
    """What the plugin knows about this session."""

    config: pytest.Config
    targets_suite: bool
    contract_ids: set[str] = field(default_factory=set)
    generated: set[str] = field(default_factory=set)  # kinds of cases collected tests generate
    plan: list[str] = field(default_factory=list)
    run: RunContext | None = None
    outcome: Outcome | None = None  # set once contract tests are collected
    report_paths: list[Path] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    _settings: RunSettings | None = None
    _outline: Outline | None = None

    def settings(self) -> RunSettings:
        """The run's settings from the options and the environment; a mistake is a UsageError."""
        if self._settings is None:
            values = {option.dest: self.config.getoption(_dest(option.dest))
                      for option in OPTIONS}
            from ghl_contract.suite.target import validate_mock_profiles

            try:
                settings = RunSettings.from_values(values)
                validate_mock_profiles(settings)
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
            self._settings = settings
        return self._settings

    def outline(self) -> Outline:
        if self._outline is None:
            from ghl_contract.suite.target import outline

            try:
                self._outline = outline(self.settings())
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
        return self._outline

    @property
    def profile(self) -> str:
        from ghl_contract.suite.generation import chosen_profile

        return chosen_profile(self.config.getoption("hypothesis_profile", None))

    @property
    def examples(self) -> int:
        from ghl_contract.suite.generation import example_count

        return example_count(self.profile, self.settings().max_examples)


STATE = pytest.StashKey[SuiteState]()


def _dest(name: str) -> str:
    # Prefixed so that no other plugin's option can collide with ours by destination.
    return f"ghl_{name}"


def _state(config: pytest.Config) -> SuiteState:
    return config.stash[STATE]


# Flags another well-known plugin defines, and that plugin's module: where it is installed, the
# option answers to its `--ghl-` form only (pytest-playwright and pytest-selenium bring
# pytest-base-url, whose --base-url would otherwise clash with ours in every pytest session).
_CLAIMED = {"--base-url": "pytest_base_url"}


def ghl_flag(option: Option) -> str:
    """The option's `--ghl-` form, which no other plugin claims (`ghl-contract run` passes it)."""
    return f"--ghl-{option.flag.removeprefix('--')}"


def session_flags(option: Option) -> list[str]:
    """The option's flags in a pytest session: its own, unless another installed plugin claims
    it, and its `--ghl-` form."""
    claimed_by = _CLAIMED.get(option.flag)
    if claimed_by is not None and importlib.util.find_spec(claimed_by) is not None:
        return [ghl_flag(option)]
    return [option.flag, ghl_flag(option)]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghl-contract", "HighLevel contract suite (ghl-contract)")
    for option in OPTIONS:
        default = f" (default {option.default})" if option.default else ""
        text = f"{option.help}{default} [env {option.env}]"
        if option.is_flag:
            group.addoption(*session_flags(option), action="store_true", default=False,
                            dest=_dest(option.dest), help=text)
        else:
            group.addoption(*session_flags(option), default=None, dest=_dest(option.dest),
                            metavar=option.dest.upper(), help=text)


def _under(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _targets_suite(config: pytest.Config) -> bool:
    """Whether the session's arguments include the contract suite (or a part of it)."""
    try:
        suite = contract_tests_dir().resolve()
    except UsageError:
        return False
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        path = path.resolve()
        if path.exists() and (_under(path, suite) or _under(suite, path)):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", NEEDS_HELP)
    state = SuiteState(config, _targets_suite(config))
    config.stash[STATE] = state
    if not state.targets_suite:
        return
    from ghl_contract.suite.generation import register_profiles

    # Before Hypothesis' own pytest_configure, which loads --hypothesis-profile.
    register_profiles()
    settings = state.settings()  # a mistake stops the session here, before any request
    if getattr(config.option, "base_url", None) and settings.base_url is None:
        # pytest-base-url's --base-url: aimed at the embedded mock instead, the run would pass
        # without testing the URL the user gave.
        raise pytest.UsageError("--base-url belongs to pytest-base-url in this environment; aim "
                                "the contract suite with --ghl-base-url or GHL_BASE_URL.")
    if getattr(config.option, "numprocesses", None):
        # Each worker would start its own run: its own write budget, rate limiter and reports.
        raise pytest.UsageError("The contract suite runs in one process (its write budget, rate "
                                "limit and reports are the run's); drop -n/--numprocesses.")
    if settings.report_dir is not None and not getattr(config.option, "xmlpath", None):
        try:
            settings.report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise pytest.UsageError(f"--report-dir {settings.report_dir} cannot be created: "
                                    f"{exc.strerror or exc}.") from None
        config.option.xmlpath = str(settings.report_dir / "junit.xml")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ghl_estimate" in metafunc.fixturenames:
        known = _state(metafunc.config).outline().estimate_ids
        metafunc.parametrize("ghl_estimate", known, ids=[f"estimate-{e}" for e in known])


def _is_contract(item: pytest.Item) -> bool:
    try:
        return _under(Path(item.path).resolve(), contract_tests_dir().resolve())
    except UsageError:
        return False


def _generated(item: pytest.Item) -> str | None:
    """The kind of generated cases a contract test sends, if it sends any."""
    marker = item.get_closest_marker(MARKER)
    kind = marker.kwargs.get("generated") if marker is not None else None
    return str(kind) if kind else None


def _reads_only(item: pytest.Item) -> bool:
    """Whether a contract test sends requests and none of them is a write."""
    marker = item.get_closest_marker(MARKER)
    return marker is not None and int(marker.kwargs.get("requests", 0)) > 0 and \
        not marker.kwargs.get("writes", 0) and not marker.kwargs.get("generated", 0)


def _needs_reason(what: str, state: SuiteState) -> str | None:
    """Why a test marked ghl_needs(what) cannot run in this session, or None when it can."""
    settings, known = state.settings(), state.outline()
    missing = {
        "other_location": None if known.other_location else (
            "The run knows no second location: pass --other-location-id "
            "(GHL_OTHER_LOCATION_ID)."),
        "other_estimate": None if known.other_estimate else (
            "The run knows no estimate of another location: pass --other-estimate-id "
            "(GHL_OTHER_ESTIMATE_ID)."),
        "compare_version": None if settings.compare_version else "No --compare-version was given.",
    }
    if what not in missing:
        raise pytest.UsageError(f"{NEEDS}({what!r}) names nothing the run knows; use one of "
                                f"{', '.join(missing)}.")
    return missing[what]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    state = _state(config)
    contract = [item for item in items if _is_contract(item)]
    if not contract:
        return
    from ghl_contract.suite.generation import register_profiles

    register_profiles()  # idempotent; for sessions that reached the suite some other way
    from ghl_contract.suite.reports import Outcome

    state.contract_ids.update(item.nodeid for item in contract)
    if state.outcome is None:
        state.outcome = Outcome()
        config.pluginmanager.register(_Outcomes(state.outcome, state.contract_ids),
                                      "ghl-contract-outcomes")
    for item in contract:
        for marker in item.iter_markers(NEEDS):
            reason = _needs_reason(str(marker.args[0]), state)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
    rank = {name: index for index, name in enumerate(ORDER)}
    position = {id(item): index for index, item in enumerate(items)}
    contract_ids = {id(item) for item in contract}

    def key(item: pytest.Item) -> tuple[int, int, int]:
        if id(item) not in contract_ids:
            return (-1, 0, position[id(item)])
        return (0 if _reads_only(item) else 1, rank.get(item.path.name, len(ORDER)),
                position[id(item)])

    items.sort(key=key)


def pytest_collection_finish(session: pytest.Session) -> None:
    state = _state(session.config)
    if not state.contract_ids:
        return
    from ghl_contract.suite.plan import Plan

    settings = state.settings()
    target = f"{settings.base_url} (live)" if settings.live else "the embedded mock"
    contract = [item for item in session.items if item.nodeid in state.contract_ids]
    state.generated = {kind for item in contract
                       if item.get_closest_marker("skip") is None and (kind := _generated(item))}
    state.plan = Plan.of(contract, state.examples, state.outline().estimate_ids).lines(
        settings, target)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for line in state.plan:
            reporter.write_line(f"ghl-contract: {line}")


class _Outcomes:
    """Counts how the contract tests ended; registered only in a session that collected them."""

    def __init__(self, outcome: Outcome, contract_ids: set[str]) -> None:
        self.outcome, self.contract_ids = outcome, contract_ids

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.contract_ids:
            return
        outcome = self.outcome
        if report.outcome == "skipped":
            outcome.skipped += 1
        elif report.outcome == "failed" and report.when == "call":
            outcome.failed += 1
        elif report.outcome == "failed":
            outcome.errors += 1
        elif report.when == "call":
            outcome.passed += 1


@pytest.fixture(scope="session")
def ghl_run(request: pytest.FixtureRequest) -> Iterator[RunContext]:
    """The contract run: its target (the embedded mock is served meanwhile) and its client."""
    from ghl_contract.suite.context import RunContext
    from ghl_contract.suite.target import open_target
    from ghl_contract.transport import Client

    state = _state(request.config)
    settings = state.settings()
    ahead: Ahead | None = None
    try:
        ahead = _load_generators(state)
        with open_target(settings) as target, \
                Client(settings, base_url=target.base_url, token=target.token) as client:
            run = RunContext(settings, target, client, state.profile, ahead=ahead)
            state.run = run
            try:
                yield run
            finally:
                run.finish()
    except (UsageError, RuntimeError) as exc:
        if state.run is not None:
            raise
        pytest.exit(f"The contract run could not start: {exc}",
                    returncode=pytest.ExitCode.USAGE_ERROR)
    finally:
        if ahead is not None:
            ahead.cancel()
        gc.unfreeze()


def _load_generators(state: SuiteState) -> Ahead | None:
    """Load what the generated tests draw from; fork the helper that draws the invalid cases.

    Before the target starts: the helper is forked while the process has a single thread.
    """
    settings, known = state.settings(), state.outline()
    if state.generated:
        from ghl_contract.suite.generation import prepare

        prepare(known.location_id, known.estimate_ids)
    # What is loaded by now (modules, schemas, strategies) lives as long as the run: frozen,
    # the collector stops walking it again on every pass while generation allocates.
    gc.freeze()
    if "invalid" not in state.generated or (settings.live and not settings.allow_writes):
        return None  # a live run without writes sends no generated case: nothing to draw ahead
    from functools import partial

    from ghl_contract.suite.ahead import Ahead
    from ghl_contract.suite.generation import invalid_cases

    return Ahead.start("invalid", state.examples, partial(
        invalid_cases, state.examples, estimate_ids=known.estimate_ids,
        location_id=known.location_id, api_version=settings.api_version,
        profile=state.profile))


@pytest.fixture
def ghl(ghl_run: RunContext, request: pytest.FixtureRequest) -> Probe:
    """A contract test's probe: send requests, have them examined, fail on breaking findings."""
    from ghl_contract.suite.context import Probe

    return Probe(ghl_run, request)


@pytest.fixture
def ghl_examples(request: pytest.FixtureRequest) -> int:
    """Generated cases per generated test (--max-examples, else the Hypothesis profile's)."""
    return _state(request.config).examples


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or state.outcome is None or session.config.option.collectonly:
        return
    from ghl_contract.suite import reports

    settings = state.settings()
    run = state.run
    target = run.target.description if run else None
    report = reports.build(run, state.outcome, state.plan, target)
    secrets = tuple(s for s in ((settings.token,) + (run.target.secrets if run else ())) if s)
    if settings.report_dir is not None:
        try:
            written = reports.write_files(report, settings.report_dir, secrets)
        except UsageError as exc:
            state.summary = [f"error: {exc}"]
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        state.report_paths = [
            Path(session.config.option.xmlpath or settings.report_dir / reports.JUNIT_NAME),
            *written,
        ]
    state.summary = reports.summary_lines(report, run, state.report_paths)
    failing = report.breaking or (settings.strict_drift and report.findings)
    if failing and session.exitstatus == pytest.ExitCode.OK:
        # A finding fails the test that saw it when that test checks its rule; the shared
        # conversion is checked whole by test_examples only. With that test deselected (-k), a
        # breaking finding must still break the run.
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        state.summary.append("The contract is broken (see the findings above), though no "
                             "selected test failed on it.")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    state = terminalreporter.config.stash.get(STATE, None)
    if state is None or not state.summary:
        return
    terminalreporter.section("ghl-contract")
    for line in state.summary:
        terminalreporter.write_line(line)
