"""The `ghl-contract` command: `run(argv, stdout, stderr) -> exit code`; `main()` only wraps it.

Exit codes: 0 the contract holds, 1 the contract is broken, 2 a usage or input error.
Each subcommand is a module of this package exposing add_arguments and execute (see COMMANDS).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, Protocol, TextIO

from ghl_contract import __version__
from ghl_contract.errors import UsageError

DESCRIPTION = ("Contract tests and schema checks for HighLevel's estimate-to-invoice API "
               "(create an invoice from an estimate, and the operations around it). Exit codes: "
               "0 the contract holds, 1 it is broken, 2 a usage or input error.")
# Every subcommand: its name, the module under ghl_contract.cli that implements it (exposing
# add_arguments and execute) and its one-line help. A module is imported only for the command that
# runs: `check` does not load the mock server, nor `run` the payload readers.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run_suite", "Run the contract suite against the embedded mock (default) or "
                         "--base-url; exit 0 when the contract holds, 1 when it is broken, 2 on a "
                         "usage error."),
    "cleanup": ("cleanup", "Undo what a live run left on its target (its REPORT_DIR's "
                           "created.json): delete or void, idempotent."),
    "mock": ("mock", "Serve a faithful mock of the API on loopback, optionally drifted or "
                     "faulty, until interrupted."),
    "proxy": ("proxy", "Forward your own application's traffic to the API unchanged and judge "
                       "each exchange against the contract, live, until stopped."),
    "check": ("check", "Check captured payloads (JSON, NDJSON, HAR files, directories, or - for "
                       "standard input) against the contract."),
    "baseline": ("baseline", "Write a baseline from drift reports: the findings it lists are "
                             "then acknowledged by run --baseline and check --baseline."),
    "diff": ("diff", "Compare two contracts (a schemas directory, 'pinned' or an OpenAPI file) "
                     "operation by operation: every change with its pointer, rule and severity."),
    "openapi": ("openapi", "Print an OpenAPI 3.1 document for this operation, assembled from the "
                           "contract's schemas."),
    "lint-vendor": ("lint_vendor", "List where a vendor OpenAPI file contradicts the documented "
                                   "examples and its own, and where it differs from the pinned "
                                   "contract, with the recorded decisions."),
}


class Subcommand(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def execute(self, args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int: ...


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one sentence and exit 2 through UsageError, not SystemExit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}.")


def _chosen(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first word that is not an option (the top level takes none
    with a value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None
                 ) -> tuple[argparse.ArgumentParser, dict[str, Subcommand]]:
    """The parser, with the arguments of the command `argv` names (of every command if None)."""
    parser = _Parser(prog="ghl-contract", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"ghl-contract {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chosen = None if argv is None else _chosen(argv)
    commands: dict[str, Subcommand] = {}
    for name, (module_name, text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=text, description=text)
        if argv is None or name == chosen:
            module: Subcommand = importlib.import_module(f"ghl_contract.cli.{module_name}")
            module.add_arguments(sub)
            commands[name] = module
    return parser, commands


def run(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    """Parse `argv`, run the subcommand, return its exit code; user errors print one sentence."""
    try:
        parser, commands = build_parser(argv)
        args = parser.parse_args(list(argv))
        if args.command is None:
            parser.print_help(stdout)
            return 2
        return commands[args.command].execute(args, stdout, stderr)
    except UsageError as exc:
        print(f"error: {exc}", file=stderr)
        return 2
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        return 130


class _QuietOnceClosed:
    """Standard output that goes to /dev/null once its reader has gone (`ghl-contract run |
    head`): the command still finishes (its reports written, its exit code right) with no
    traceback for the lines nobody reads."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._silence()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # the final flush at exit lands there too
        os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main() -> None:
    stdout: Any = _QuietOnceClosed(sys.stdout)
    code = run(sys.argv[1:], stdout, sys.stderr)
    stdout.flush()
    # The process ends here: frozen, its objects are left to the operating system instead of
    # one last collection over all of them (a tenth of a second after a contract run).
    gc.freeze()
    sys.exit(code)
