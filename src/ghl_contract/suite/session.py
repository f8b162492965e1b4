"""What the contract suite's pytest plugin knows about one session: its settings, the target's
outline, the collected contract tests, the plan, the run and its outcome.

`ghl-contract run` hands its validated `RunSettings` to the session directly (`GivenSettings`, a
plugin object passed to `pytest.main`); plain `pytest` builds them from the suite's options and
their environment variables. Either way they are validated once, before any request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ghl_contract.errors import UsageError
from ghl_contract.settings import OPTIONS, RunSettings
from ghl_contract.suite.markers import MARKER, NEEDS

if TYPE_CHECKING:
    from ghl_contract.baseline import Baseline
    from ghl_contract.suite.ahead import Ahead
    from ghl_contract.suite.context import RunContext
    from ghl_contract.suite.reports import Outcome
    from ghl_contract.suite.target import Outline

@dataclass(frozen=True, eq=False)  # a plugin: hashed by identity
class GivenSettings:
    """A plugin object carrying the settings `ghl-contract run` validated (no round trip
    through a command line or the environment): `pytest.main(args, plugins=[GivenSettings(s)])`;
    and the helper it forked before pytest started, if it did."""

    settings: RunSettings
    helper: Ahead | None = None


def given(config: pytest.Config) -> GivenSettings | None:
    """What `ghl-contract run` handed to this session, if it did."""
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, GivenSettings):
            return plugin
    return None


def given_settings(config: pytest.Config) -> RunSettings | None:
    """The settings `ghl-contract run` handed to this session, if it did."""
    handed = given(config)
    return handed.settings if handed is not None else None


def dest(name: str) -> str:
    """An option's destination in pytest: prefixed, so no other plugin's collides with ours."""
    return f"ghl_{name}"


@dataclass
class SuiteState:
    """What the plugin knows about this session."""

    config: pytest.Config
    targets_suite: bool
    started: float = field(default_factory=time.monotonic)  # the run's deadline counts from here
    contract_ids: set[str] = field(default_factory=set)
    generated: set[str] = field(default_factory=set)  # kinds of cases collected tests generate
    plan: list[str] = field(default_factory=list)
    run: RunContext | None = None
    outcome: Outcome | None = None  # set once contract tests are collected
    report_paths: list[Path] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    _settings: RunSettings | None = None
    _outline: Outline | None = None
    _seed: int | None = None
    _baseline: Baseline | None = None
    ahead: Ahead | None = None  # the helper drawing the invalid cases meanwhile (start_helper)

    def settings(self) -> RunSettings:
        """The run's settings: those `ghl-contract run` gave, else from the options and the
        environment; a mistake is a pytest UsageError."""
        if self._settings is None:
            given = given_settings(self.config)
            if given is not None:
                self._settings = given
                return given
            values = {option.dest: self.config.getoption(dest(option.dest))
                      for option in OPTIONS}
            from ghl_contract.suite.target import validate_mock_profiles

            try:
                settings = RunSettings.from_values(values)
                validate_mock_profiles(settings)
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
            self._settings = settings
        return self._settings

    def baseline(self) -> Baseline | None:
        """The run's --baseline, read once; an unreadable or invalid file is a UsageError."""
        path = self.settings().baseline
        if path is not None and self._baseline is None:
            from ghl_contract.baseline import load

            try:
                self._baseline = load(path)
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
        return self._baseline

    def outline(self) -> Outline:
        if self._outline is None:
            from ghl_contract.suite.target import outline

            try:
                self._outline = outline(self.settings())
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
        return self._outline

    @property
    def seed(self) -> int | None:
        """The seed of the generated cases: --seed, else one drawn for this run (None under the
        `ci` profile, which is derandomized: every run draws the same cases)."""
        if self._seed is None:
            from ghl_contract.suite.generation import run_seed

            self._seed = run_seed(self.settings().seed, self.profile)
        return self._seed

    @property
    def profile(self) -> str:
        from ghl_contract.suite.generation import chosen_profile

        return chosen_profile(self.config.getoption("hypothesis_profile", None))

    @property
    def examples(self) -> int:
        from ghl_contract.suite.generation import example_count

        return example_count(self.profile, self.settings().max_examples)


STATE = pytest.StashKey[SuiteState]()


def state_of(config: pytest.Config) -> SuiteState:
    return config.stash[STATE]


def generated_kind(item: pytest.Item) -> str | None:
    """The kind of generated cases a contract test sends, if it sends any."""
    marker = item.get_closest_marker(MARKER)
    kind = marker.kwargs.get("generated") if marker is not None else None
    return str(kind) if kind else None


def reads_only(item: pytest.Item) -> bool:
    """Whether a contract test sends requests and none of them is a write."""
    marker = item.get_closest_marker(MARKER)
    return marker is not None and int(marker.kwargs.get("requests", 0)) > 0 and \
        not marker.kwargs.get("writes", 0) and not marker.kwargs.get("generated", 0)


def needs_reason(what: str, state: SuiteState) -> str | None:
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


def start_helper(state: SuiteState) -> None:
    """The helper that draws the invalid cases: the one `ghl-contract run` forked before pytest
    started, else one forked now (ahead.draw_invalid_ahead).

    Forked before the target starts, while the process runs a single thread; stopped at the end
    of collection when no selected test sends its cases (`settle_helper`).
    """
    handed = given(state.config)
    if handed is not None and handed.helper is not None:
        state.ahead = handed.helper
        return
    from ghl_contract.suite.ahead import draw_invalid_ahead

    state.ahead = draw_invalid_ahead(state.settings(), state.outline(), state.profile,
                                     state.examples, state.seed)


def settle_helper(state: SuiteState) -> None:
    """Stop the helper once collection shows that no selected test sends its cases."""
    if state.ahead is not None and "invalid" not in state.generated:
        stop_helper(state)


def stop_helper(state: SuiteState) -> None:
    """Stop the helper if its cases were never taken."""
    if state.ahead is not None:
        state.ahead.cancel()
        state.ahead = None
