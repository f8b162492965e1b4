"""The `ghl-contract` command: `run(argv, stdout, stderr) -> exit code`; `main()` only wraps it.

Exit codes: 0 the contract holds, 1 the contract is broken, 2 a usage or input error.
Each subcommand is a module of this package exposing NAME, HELP, add_arguments and execute.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol, TextIO

from ghl_contract import __version__
from ghl_contract.errors import UsageError

SUBCOMMANDS = ("run", "mock", "check", "diff", "openapi", "lint_vendor")


class Subcommand(Protocol):
    NAME: str
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def execute(self, args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int: ...


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one sentence and exit 2 through UsageError, not SystemExit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}.")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Subcommand]]:
    parser = _Parser(prog="ghl-contract", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ghl-contract {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands: dict[str, Subcommand] = {}
    for module_name in SUBCOMMANDS:
        try:
            module: Subcommand = importlib.import_module(f"ghl_contract.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"ghl_contract.cli.{module_name}":
                raise
            continue  # a subcommand not built yet
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        commands[module.NAME] = module
    return parser, commands


def run(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    """Parse `argv`, run the subcommand, return its exit code; user errors print one sentence."""
    try:
        parser, commands = build_parser()
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


def main() -> None:
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))
