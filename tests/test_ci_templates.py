"""The CI templates in ci/ parse, and every ghl-contract command they call is a real one."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghl_contract.cli import build_parser

CI = Path(__file__).resolve().parents[1] / "ci"
TEMPLATES = sorted(CI.glob("*.yml"))


def _scripts(node: Any) -> list[str]:
    """Every shell line under a `run:` (Actions) or `script:` (GitLab) key."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "before_script"):
                items = [value] if isinstance(value, str) else value
                found += [v for v in items if isinstance(v, str)]
            else:
                found += _scripts(value)
    elif isinstance(node, list):
        for item in node:
            found += _scripts(item)
    return found


def _commands(template: Path) -> list[list[str]]:
    lines = _scripts(yaml.safe_load(template.read_text(encoding="utf-8")))
    return [shlex.split(line)[1:] for line in lines if line.strip().startswith("ghl-contract ")]


def test_templates_exist() -> None:
    assert {path.name for path in TEMPLATES} == {"github-actions.yml", "gitlab-ci.yml"}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_each_template_calls_the_contract_run(template: Path) -> None:
    commands = _commands(template)
    assert [argv[0] for argv in commands] == ["run", "run"]
    assert any("--allow-writes" in argv and "--max-writes" in argv for argv in commands)


@pytest.mark.parametrize(
    "argv",
    [pytest.param(argv, id=f"{path.name}-{i}") for path in TEMPLATES
     for i, argv in enumerate(_commands(path))],
)
def test_template_commands_are_valid(argv: list[str]) -> None:
    parser, _ = build_parser()
    args = parser.parse_args(argv)  # raises UsageError on an unknown subcommand or option
    assert args.command == "run"


def test_sandbox_jobs_take_the_token_from_secrets() -> None:
    actions = (CI / "github-actions.yml").read_text(encoding="utf-8")
    assert "GHL_TOKEN: ${{ secrets." in actions
    workflow = yaml.safe_load(actions)
    sandbox = workflow["jobs"]["contract-sandbox"]
    assert sandbox["env"]["GHL_TOKEN"].startswith("${{ secrets.")
