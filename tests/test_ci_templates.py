"""The CI templates in ci/: they validate against GitHub's and GitLab's own schemas, every
ghl-contract command they run is a real one, and their install step installs ghl-contract from a
clone of this repository at a pinned commit with no package index at all."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghl_contract.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "ci"
TEMPLATES = sorted(CI.glob("*.yml"))
SCHEMAS = {"github-actions.yml": "vendor.github-workflows", "gitlab-ci.yml": "vendor.gitlab-ci"}
COMMAND_TIMEOUT = 180.0  # seconds: a git clone and a wheel build


def _load(template: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(template.read_text(encoding="utf-8"))
    return data


def _jobs(template: Path) -> dict[str, dict[str, Any]]:
    data = _load(template)
    if "jobs" in data:  # GitHub Actions
        return dict(data["jobs"])
    return {name: job for name, job in data.items()
            if isinstance(job, dict) and not name.startswith(".") and name != "variables"}


def _scripts(node: Any) -> list[str]:
    """Every shell script under a `run:` (Actions) or `script:`/`before_script:` (GitLab) key."""
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


def _commands(node: Any) -> list[list[str]]:
    """The arguments of every ghl-contract command in `node`'s scripts."""
    return [shlex.split(line)[1:] for script in _scripts(node) for line in script.splitlines()
            if line.strip().startswith("ghl-contract ")]


def _install_script(template: Path) -> str:
    [script] = {s for s in _scripts(_load(template)) if "pip install" in s}
    return script


def test_templates_exist() -> None:
    assert {path.name for path in TEMPLATES} == set(SCHEMAS)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_the_template_validates_against_its_ci_schema(template: Path) -> None:
    # check-jsonschema carries both schemas: no download is needed.
    completed = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", SCHEMAS[template.name],
         str(template)],
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_the_schema_check_refuses_a_broken_template(template: Path, tmp_path: Path) -> None:
    broken = _load(template)
    job = broken.get("jobs", broken)["contract-mock"]
    if "jobs" in broken:
        job["timeout-minutes"] = "a while"
    else:
        job["when"] = "sometimes"
    path = tmp_path / template.name
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", SCHEMAS[template.name],
         str(path)],
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    assert completed.returncode == 1, completed.stdout + completed.stderr


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_the_mock_job_checks_the_fixtures_then_runs_the_suite(template: Path) -> None:
    job = _jobs(template)["contract-mock"]
    assert [argv[:2] for argv in _commands(job)] == [
        ["check", "$GHL_FIXTURES_DIR"], ["run", "--report-dir"]]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_the_nightly_job_has_a_complete_budget_and_the_baseline(template: Path) -> None:
    [argv] = _commands(_jobs(template)["contract-sandbox"])
    assert argv[0] == "run"
    for flag in ("--base-url", "--allow-writes", "--max-writes", "--require-complete",
                 "--baseline", "--report-dir", "--record"):
        assert flag in argv


@pytest.mark.parametrize(
    "argv",
    [pytest.param(argv, id=f"{path.name}-{i}")
     for path in TEMPLATES for i, argv in enumerate(_commands(_load(path)))],
)
def test_template_commands_are_valid(argv: list[str]) -> None:
    parser, _ = build_parser()
    args = parser.parse_args(argv)  # raises UsageError on an unknown subcommand or option
    assert args.command in ("check", "run")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_nothing_is_installed_from_a_package_index(template: Path) -> None:
    install = _install_script(template)
    assert '"ghl-contract @ git+${GHL_CONTRACT_REPO}@${GHL_CONTRACT_COMMIT}"' in install
    text = template.read_text(encoding="utf-8")
    assert "pip install ghl-contract" not in text
    assert "pip install \"ghl-contract\"" not in text


def test_sandbox_jobs_take_the_token_from_secrets() -> None:
    sandbox = _jobs(CI / "github-actions.yml")["contract-sandbox"]
    assert sandbox["env"]["GHL_TOKEN"].startswith("${{ secrets.")
    assert "GHL_TOKEN" not in _load(CI / "gitlab-ci.yml")["variables"]


def _clone(tmp_path: Path) -> tuple[Path, str]:
    """A clone of this repository and its commit; skipped outside a git checkout."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("The install test needs git and a git checkout of ghl-contract.")
    clone = tmp_path / "ghl-contract"
    subprocess.run([git, "clone", "--quiet", "--no-local", str(ROOT), str(clone)],
                   check=True, timeout=COMMAND_TIMEOUT, capture_output=True)
    commit = subprocess.run([git, "-C", str(clone), "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    return clone, commit


def _shell(template: Path) -> list[str]:
    # GitHub runs a `run:` script with bash; GitLab's python image with bash or sh.
    return ["bash", "-e", "-c"] if template.name == "github-actions.yml" else ["sh", "-e", "-c"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_the_install_step_installs_the_pinned_commit_without_an_index(
        template: Path, tmp_path: Path) -> None:
    clone, commit = _clone(tmp_path)
    site = tmp_path / "site"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # ghl-contract from the clone at its commit: pip needs a host in a file URL
        "GHL_CONTRACT_REPO": f"file://localhost{clone.as_posix()}",
        "GHL_CONTRACT_COMMIT": commit,
        # no package index, not even the machine's own configuration of one
        "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "",
        # the dependencies and the build backend (hatchling) are this environment's
        "PIP_NO_DEPS": "1", "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_TARGET": str(site), "PIP_CACHE_DIR": str(tmp_path / "cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    completed = subprocess.run([*_shell(template), _install_script(template)], env=env,
                               cwd=tmp_path, capture_output=True, text=True,
                               timeout=COMMAND_TIMEOUT, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [dist_info] = site.glob("ghl_contract-*.dist-info")
    direct = json.loads((dist_info / "direct_url.json").read_text(encoding="utf-8"))
    assert direct["vcs_info"]["commit_id"] == commit
    # The installed copy carries the contract and the suite, and runs without the checkout.
    probe = subprocess.run(
        [sys.executable, "-c", "import ghl_contract.resources as r; "
         "print(r.schemas_dir()); print(r.contract_tests_dir())"],
        env={**os.environ, "PYTHONPATH": str(site)}, cwd=tmp_path, capture_output=True,
        text=True, timeout=COMMAND_TIMEOUT, check=True)
    assert probe.stdout.splitlines() == [str(site / "ghl_contract" / "schemas"),
                                         str(site / "ghl_contract" / "contract_tests")]


@pytest.mark.parametrize("commit", ["", "main", "v1.0.0", "0" * 39, "A" * 40])
def test_the_install_step_refuses_anything_but_a_full_commit_id(commit: str,
                                                                tmp_path: Path) -> None:
    template = CI / "github-actions.yml"
    env = {**os.environ, "GHL_CONTRACT_REPO": "file://localhost/nowhere",
           "GHL_CONTRACT_COMMIT": commit, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}
    completed = subprocess.run([*_shell(template), _install_script(template)], env=env,
                               cwd=tmp_path, capture_output=True, text=True,
                               timeout=COMMAND_TIMEOUT, check=False)
    assert completed.returncode == 1
    assert "GHL_CONTRACT_COMMIT must" in completed.stderr
    assert "pip" not in completed.stdout
