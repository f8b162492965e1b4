"""Locates the data that ships with the package: the contract, its examples and the suite."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ghl_contract.errors import UsageError

_PACKAGE = Path(__file__).resolve().parent
# In a wheel, hatchling puts schemas/ and contract_tests/ inside the package (pyproject's
# force-include). In a checkout (editable install) they stay at the top of the repository.
_CHECKOUT = _PACKAGE.parent.parent


@cache
def data_dir(name: str) -> Path:
    """Return the directory `name` (schemas, contract_tests) from the wheel or the checkout."""
    for candidate in (_PACKAGE / name, _CHECKOUT / name):
        if candidate.is_dir():
            return candidate
    raise UsageError(
        f"The packaged directory {name!r} is missing (looked in {_PACKAGE} and {_CHECKOUT}); "
        "reinstall ghl-contract."
    )


def schemas_dir() -> Path:
    return data_dir("schemas")


def contract_tests_dir() -> Path:
    return data_dir("contract_tests")


def example_path(name: str) -> Path:
    """A documented example of the contract, e.g. ``example_path("response-200")``."""
    return schemas_dir() / "examples" / f"{name}.json"
