"""`ghl-contract run`: the packaged contract suite, through pytest in this process, as one command.

The options are the suite's (settings.OPTIONS, each with its environment variable); they are
checked before pytest starts, so a mistake is one sentence and exit 2 with no request sent, and the
validated settings are handed to the suite's plugin as they are (`GivenSettings`): no secret goes
through a command line or the environment a second time. pytest runs the packaged
`contract_tests/` (and a team's own tests given with --tests) with the suite's own configuration
file and root directory, whatever the current directory holds. Exit codes: 0 the contract holds,
1 it is broken, 2 a usage or set-up error (pytest's usage, internal and no-tests exit codes
included).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from ghl_contract.errors import UsageError
from ghl_contract.resources import contract_tests_dir
from ghl_contract.settings import OPTIONS, RunSettings

# A user's PYTEST_ADDOPTS is for their own test runs, not for the packaged suite.
_FOREIGN_ENVIRONMENT = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")
# The packaged suite runs with its own plugins only: another installed plugin could reorder the
# tests, claim one of its options (pytest-base-url has --base-url) or just slow the start down.
_ISOLATION = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
# What the suite needs besides pytest's own (the suite's plugin: its pytest.ini loads it) when
# --hypothesis-profile is given: Hypothesis' plugin, which loads the profile. Only then: it imports
# Hypothesis as the session ends, which a run that does not draw in process never needs.
_PROFILE_PLUGINS = ("_hypothesis_pytestplugin",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for option in OPTIONS:
        default = f" (default {option.default})" if option.default else ""
        text = f"{option.help}{default} [env {option.env}]"
        if option.is_flag:
            parser.add_argument(option.flag, action="store_true", default=False, help=text)
        else:
            parser.add_argument(option.flag, metavar=option.dest.upper(), help=text)
    parser.add_argument("--hypothesis-profile", choices=("dev", "ci"), default=None,
                        help="Hypothesis profile for the generated cases: dev (random) or ci "
                             "(derandomized); default ci when $CI is set, else dev.")
    parser.add_argument("-k", dest="keyword", metavar="EXPRESSION",
                        help="Run only the contract tests whose names match this pytest "
                             "keyword expression.")
    parser.add_argument("-x", "--exitfirst", action="store_true",
                        help="Stop at the first failing contract test.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="Name each contract test as it runs.")
    parser.add_argument("--tests", action="append", default=[], metavar="PATH",
                        help="Also run these test files or directories of the team's own, which "
                             "use the suite's `ghl` fixture; their results count in the reports "
                             "(repeatable).")


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The pytest command line for `args`: the packaged suite (and the team's own tests), its
    config, the selection. The run's options are not on it: the plugin is given the settings."""
    suite = contract_tests_dir()
    own = [str(Path(path).resolve()) for path in args.tests]
    for path in own:
        if not Path(path).exists():
            raise UsageError(f"--tests {path} does not exist.")
    argv = [str(suite), *own, "-c", str(suite / "pytest.ini"), "--rootdir", str(suite),
            "-v" if args.verbose else "-q"]
    if args.hypothesis_profile:
        argv.extend(arg for plugin in _PROFILE_PLUGINS for arg in ("-p", plugin))
        argv.append(f"--hypothesis-profile={args.hypothesis_profile}")
    if args.keyword:
        argv.extend(["-k", args.keyword])
    if args.exitfirst:
        argv.append("-x")
    return argv


@contextlib.contextmanager
def _streams(stdout: TextIO, stderr: TextIO, environment: dict[str, str]) -> Iterator[None]:
    """pytest writes to sys.stdout/sys.stderr: point them at the caller's streams meanwhile.

    The environment is the suite's meanwhile too (_FOREIGN_ENVIRONMENT out, `environment` in).
    """
    names = (*_FOREIGN_ENVIRONMENT, *environment)
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    os.environ.update(environment)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            yield
    finally:
        for name in environment:
            os.environ.pop(name, None)
        os.environ.update(saved)


def _cache_home() -> Path:
    """Where the run keeps Hypothesis' caches: the user's cache directory, not their cwd."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ghl-contract" / "hypothesis"


@contextlib.contextmanager
def _hypothesis_home() -> Iterator[None]:
    """Hypothesis' storage (its caches: a charmap that takes a second to build, the constants of
    the code under test) in the user's cache directory rather than `.hypothesis/` where they are,
    unless HYPOTHESIS_STORAGE_DIRECTORY says where.

    Through that variable, so that Hypothesis need not be loaded for it: the run does not load it
    (the helper that draws its cases does, and inherits the variable).
    """
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    loaded = sys.modules.get("hypothesis.configuration")
    # Read without the intent to write: Hypothesis warns when storage is touched before its
    # pytest plugin has loaded.
    before = loaded.storage_directory(intent_to_write=False).home_directory if loaded else None
    home = _cache_home()
    with contextlib.ExitStack() as stack:
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError:  # no writable cache directory: a scratch one, rebuilt each run
            home = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="ghl-contract-hypothesis-")))
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(home)
        if loaded is not None:
            loaded.set_hypothesis_home_dir(str(home))
        try:
            yield
        finally:
            os.environ.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
            configuration = sys.modules.get("hypothesis.configuration")
            if configuration is not None:  # as it was (None: read the variable again)
                configuration.set_hypothesis_home_dir(before)


def execute(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ghl_contract.baseline import from_options as load_baseline
    from ghl_contract.redact import ACTIVE_SECRETS, RedactingStream
    from ghl_contract.registry import use_contract
    from ghl_contract.suite.ahead import draw_invalid_ahead
    from ghl_contract.suite.generation import chosen_profile, example_count, run_seed
    from ghl_contract.suite.target import outline, validate_mock_profiles

    settings = RunSettings.from_values({option.dest: getattr(args, option.dest)
                                        for option in OPTIONS})
    use_contract(settings.schemas, settings.contract_patch)  # before anything reads it
    profile = chosen_profile(args.hypothesis_profile)
    # The seed is chosen here, for the helper and the session alike (the run prints it).
    settings = replace(settings, seed=run_seed(settings.seed, profile))

    def secrets() -> tuple[str | None, ...]:
        return (settings.token, *ACTIVE_SECRETS.snapshot())

    # Whatever pytest or a test prints passes the redaction, line by line.
    out, err = RedactingStream(stdout, secrets), RedactingStream(stderr, secrets)
    with _streams(out, err, dict(_ISOLATION)), _hypothesis_home():  # type: ignore[arg-type]
        # Forked first, so that it loads Schemathesis and draws while the options are checked,
        # the target answers the preflight and pytest starts; the session stops it when no
        # selected test sends its cases.
        helper = draw_invalid_ahead(settings, outline(settings), profile,
                                    example_count(profile, settings.max_examples), settings.seed)
        try:
            validate_mock_profiles(settings)
            # a bad baseline is one sentence here, before pytest starts
            load_baseline(settings.baseline, settings.strict_baseline)
            argv = pytest_arguments(args)
            from ghl_contract.suite.preflight import preflight

            preflight(settings)  # a target that does not answer, or refuses the token: one sentence
            import pytest

            from ghl_contract.suite.session import GivenSettings

            code = pytest.main(argv, plugins=[GivenSettings(settings, helper)])
        finally:
            if helper is not None:
                helper.cancel()
            gc.unfreeze()  # frozen for the helper (the session unfreezes it when it runs)
            out.flush()
            err.flush()
    if code == pytest.ExitCode.OK:
        return 0
    if code == pytest.ExitCode.TESTS_FAILED:
        return 1
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise UsageError("No contract test was selected; check -k.")
    if code == pytest.ExitCode.USAGE_ERROR:
        return 2  # pytest has printed the sentence
    if code == pytest.ExitCode.INTERRUPTED:
        raise UsageError("The contract run was interrupted before it finished (see above).")
    raise UsageError(f"The contract suite could not run (pytest exit code {int(code)}); "
                     "see the output above.")
