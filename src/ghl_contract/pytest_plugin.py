"""The contract suite's pytest plugin: its options, hooks and fixtures (the rest is suite.session).

A session loads it explicitly: the suite's own pytest.ini (`-p ghl_contract.pytest_plugin`), a
conftest's `pytest_plugins`, or `ghl-contract run`, which also hands it the validated settings
(`GivenSettings`). It keeps quiet in a session that runs no contract test: it only adds options and
markers. A contract test is one under the packaged `contract_tests/` or any test that uses the
`ghl` fixture (a team's own tests count in the reports too). Only when the session runs the suite
are the settings validated, the Hypothesis profiles registered, the plan printed and the reports
written. The embedded mock starts when a contract test first asks for the `ghl` fixture.
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ghl_contract.errors import UsageError
from ghl_contract.reporters.common import plural
from ghl_contract.resources import contract_tests_dir
from ghl_contract.settings import OPTIONS, Option
from ghl_contract.suite.markers import MARKER_HELP, NEEDS, NEEDS_HELP, ORDER
from ghl_contract.suite.session import (
    STATE,
    GivenSettings,
    SuiteState,
    dest,
    generated_kind,
    given_settings,
    needs_reason,
    reads_only,
    settle_helper,
    start_helper,
    state_of,
    stop_helper,
)

if TYPE_CHECKING:
    # The suite's machinery (httpx, Schemathesis, the mock) is imported only by a session that
    # runs the suite.
    from ghl_contract.suite.context import Probe, RunContext
    from ghl_contract.suite.reports import Outcome

__all__ = ["GivenSettings"]


# Flags another well-known plugin defines, and that plugin's module: where it is installed, the
# option answers to its `--ghl-` form only (pytest-playwright and pytest-selenium bring
# pytest-base-url, whose --base-url would otherwise clash with ours in every pytest session).
_CLAIMED = {"--base-url": "pytest_base_url"}


def ghl_flag(option: Option) -> str:
    """The option's `--ghl-` form, which no other plugin claims."""
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
                            dest=dest(option.dest), help=text)
        else:
            group.addoption(*session_flags(option), default=None, dest=dest(option.dest),
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
    given = given_settings(config) is not None
    state = SuiteState(config, given or _targets_suite(config))
    config.stash[STATE] = state
    if not state.targets_suite:
        return
    from ghl_contract.suite.imports import without_httpx_cli

    without_httpx_cli()  # before the suite's machinery loads httpx
    if config.getoption("hypothesis_profile", None):
        from ghl_contract.suite.generation import register_profiles

        # Before Hypothesis' own pytest_configure, which loads --hypothesis-profile (a run that
        # names no profile never imports Hypothesis in this process: a helper draws its cases).
        register_profiles()
    settings = state.settings()  # a mistake stops the session here, before any request
    if given_settings(config) is None:  # `ghl-contract run` chose the contract already
        from ghl_contract.registry import use_contract

        try:
            use_contract(settings.schemas, settings.contract_patch)
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    state.baseline()
    if getattr(config.option, "base_url", None) and settings.base_url is None:
        # pytest-base-url's --base-url: aimed at the embedded mock instead, the run would pass
        # without testing the URL the user gave.
        raise pytest.UsageError("--base-url belongs to pytest-base-url in this environment; aim "
                                "the contract suite with --ghl-base-url or GHL_BASE_URL.")
    if getattr(config.option, "numprocesses", None):
        # Each worker would start its own run: its own write budget, rate limiter and reports.
        raise pytest.UsageError("The contract suite runs in one process (its write budget, rate "
                                "limit and reports are the run's); drop -n/--numprocesses.")
    if given_settings(config) is None and not config.option.collectonly:
        from ghl_contract.suite.preflight import preflight

        try:
            preflight(settings)  # `ghl-contract run` sent it before pytest started
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    if settings.report_dir is not None and not getattr(config.option, "xmlpath", None):
        try:
            settings.report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise pytest.UsageError(f"--report-dir {settings.report_dir} cannot be created: "
                                    f"{exc.strerror or exc}.") from None
        config.option.xmlpath = str(settings.report_dir / "junit.xml")


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # After Hypothesis' own, which ends its initialization: the helper draws at once.
    state = session.config.stash.get(STATE, None)
    if state is not None and state.targets_suite and not session.config.option.collectonly:
        start_helper(state)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None:
        stop_helper(state)  # a session that never ran the test that takes its cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ghl_estimate" in metafunc.fixturenames:
        known = state_of(metafunc.config).outline().estimate_ids
        metafunc.parametrize("ghl_estimate", known, ids=[f"estimate-{e}" for e in known])


def _is_contract(item: pytest.Item) -> bool:
    """A test of the packaged suite, or any test that uses the suite's `ghl` fixture."""
    if "ghl" in getattr(item, "fixturenames", ()):
        return True
    try:
        return _under(Path(item.path).resolve(), contract_tests_dir().resolve())
    except UsageError:
        return False


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    state = state_of(config)
    contract = [item for item in items if _is_contract(item)]
    if not contract:
        return
    from ghl_contract.suite.reports import Outcome

    state.contract_ids.update(item.nodeid for item in contract)
    if state.outcome is None:
        state.outcome = Outcome()
        config.pluginmanager.register(_Outcomes(state.outcome, state.contract_ids),
                                      "ghl-contract-outcomes")
    for item in contract:
        for marker in item.iter_markers(NEEDS):
            reason = needs_reason(str(marker.args[0]), state)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
    rank = {name: index for index, name in enumerate(ORDER)}
    position = {id(item): index for index, item in enumerate(items)}
    contract_ids = {id(item) for item in contract}

    def key(item: pytest.Item) -> tuple[int, int, int]:
        if id(item) not in contract_ids:
            return (-1, 0, position[id(item)])
        return (0 if reads_only(item) else 1, rank.get(item.path.name, len(ORDER)),
                position[id(item)])

    items.sort(key=key)


def pytest_collection_finish(session: pytest.Session) -> None:
    state = state_of(session.config)
    if not state.contract_ids:
        return
    from ghl_contract.suite.plan import Plan

    settings = state.settings()
    target = f"{settings.base_url} (live)" if settings.live else "the embedded mock"
    contract = [item for item in session.items if item.nodeid in state.contract_ids]
    state.generated = {kind for item in contract if item.get_closest_marker("skip") is None
                       and (kind := generated_kind(item))}
    settle_helper(state)
    outline = state.outline()
    state.plan = Plan.of(contract, state.examples, outline.estimate_ids,
                         outline.estimate_mode).lines(settings, target)
    if state.generated:
        state.plan.append(f"Seed {state.seed} (--seed {state.seed} sends the same generated "
                          "cases again)." if state.seed is not None else
                          "Generated cases are derandomized (the ci profile): every run sends "
                          "the same ones.")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for line in state.plan:
            reporter.write_line(f"ghl-contract: {line}")


class _Outcomes:
    """Counts how the contract tests ended; registered only in a session that collected them."""

    def __init__(self, outcome: Outcome, contract_ids: set[str]) -> None:
        self.outcome, self.contract_ids = outcome, contract_ids

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid in self.contract_ids:
            self.outcome.add(report)


@pytest.fixture(scope="session")
def ghl_run(request: pytest.FixtureRequest) -> Iterator[RunContext]:
    """The contract run: its target (the embedded mock is served meanwhile), its client, its
    estimates and the ledger of what it creates, which it cleans up when it ends, however."""
    from ghl_contract.registry import pinned
    from ghl_contract.suite.context import RunContext
    from ghl_contract.suite.estimates import Estimates, run_label
    from ghl_contract.suite.ledger import LEDGER_NAME, Ledger
    from ghl_contract.suite.lifespan import stopped_by_sigterm
    from ghl_contract.suite.run_end import clean_up_run
    from ghl_contract.suite.target import open_target
    from ghl_contract.transport import open_client

    state = state_of(request.config)
    settings = state.settings()
    try:
        # What is loaded by now lives as long as the run: frozen, the collector stops walking it
        # again on every pass.
        gc.freeze()
        with open_target(settings) as target:
            keep = settings.report_dir is not None and not target.embedded
            ledger = Ledger(target.base_url, settings.api_version,
                            settings.report_dir / LEDGER_NAME if keep and settings.report_dir
                            else None, location=target.location_id, label=run_label())
            manifest = pinned().manifest
            with open_client(settings, base_url=target.base_url, token=target.token,
                             secrets=target.secrets, on_exchange=[ledger.hook(manifest)],
                             before_request=[ledger.write_ahead(manifest)],
                             started=state.started) as client, stopped_by_sigterm():
                estimates = Estimates(target.estimate_mode, target.estimate_ids)
                run = RunContext(settings, target, client, state.profile, state.seed, ledger,
                                 estimates, ahead=state.ahead, baseline=state.baseline())
                state.run = run
                try:
                    yield run
                finally:
                    run.finish()
                    if not target.embedded:
                        clean_up_run(run)
    except (UsageError, RuntimeError) as exc:
        if state.run is not None:
            raise
        pytest.exit(f"The contract run could not start: {exc}",
                    returncode=pytest.ExitCode.USAGE_ERROR)
    finally:
        stop_helper(state)
        gc.unfreeze()


@pytest.fixture
def ghl(ghl_run: RunContext, request: pytest.FixtureRequest) -> Probe:
    """A contract test's probe: send requests, have them examined, fail on breaking findings."""
    from ghl_contract.suite.context import Probe

    return Probe(ghl_run, request)


@pytest.fixture
def ghl_examples(request: pytest.FixtureRequest) -> int:
    """Generated cases per generated test (--max-examples, else the Hypothesis profile's)."""
    return state_of(request.config).examples


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test's report with the run's secrets redacted, before the terminal or junit.xml
    prints it."""
    report = yield
    state = item.config.stash.get(STATE, None)
    if state is not None and state.run is not None:
        from ghl_contract.suite.redaction import redact_test_report, run_secrets

        redact_test_report(report, run_secrets(state.settings(), state.run))
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or state.outcome is None or session.config.option.collectonly:
        return
    from ghl_contract.suite import reports

    settings = state.settings()
    run = state.run
    from ghl_contract.redact import redact_value
    from ghl_contract.suite.redaction import redact_junit, run_secrets

    secrets = run_secrets(settings, run)
    # Values redacted before a writer escapes them for its format (Markdown, JSON, XML).
    report = redact_value(reports.build(run, state.outcome, state.plan, settings,
                                        baseline=state.baseline(),
                                        seed=state.seed if state.generated else None), secrets)
    redact_junit(Path(session.config.option.xmlpath) if session.config.option.xmlpath else None,
                 secrets)
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
    state.summary = redact_value(reports.summary_lines(report, run, state.report_paths), secrets)
    failing = report.exit_code(strict=settings.strict_drift,
                               strict_baseline=settings.strict_baseline) == 1
    if failing and session.exitstatus == pytest.ExitCode.OK:
        # A finding fails the test that saw it when that test checks its rule; the shared
        # conversion is checked whole by test_examples only. With that test deselected (-k), a
        # breaking finding must still break the run.
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if report.findings:
            state.summary.append("The contract is broken (see the findings above), though no "
                                 "selected test failed on it.")
        else:
            state.summary.append("The baseline lists entries that no longer occur "
                                 "(--strict-baseline): remove them from it.")
    wanting = sum(len(tests) for tests in run.skipped_writes.values()) if run else 0
    if wanting:
        # A run that skipped contract tests never says only that the contract holds.
        state.summary.append(f"Incomplete: {plural(wanting, 'contract test')} skipped for want "
                             "of a write; the verdict covers the tests that ran.")
        if settings.require_complete:
            state.summary.append("--require-complete: a skipped contract test fails the run.")
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    state = terminalreporter.config.stash.get(STATE, None)
    if state is None or not state.summary:
        return
    terminalreporter.section("ghl-contract")
    for line in state.summary:
        terminalreporter.write_line(line)
