"""A contract teams adjust without forking it: an RFC 6902 JSON Patch over the contract directory.

The patch's document is the contract directory seen as one JSON object keyed by schema file name
(`/estimate.json/required`); its format is `schemas/patches/patch.schema.json` (the plain array of
operations, or `{description, patch, reasons}`). It is checked on load: an operation that does not
apply, or a schema it leaves invalid, is one sentence naming it, and nothing is checked against a
contract half patched. `observed` names the packaged patch of what the live API was seen to do.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonpatch
import jsonpointer
import jsonschema_rs

from ghl_contract.errors import UsageError
from ghl_contract.registry import ContractRegistry
from ghl_contract.resources import schemas_dir

PACKAGED = {"observed": "observed.json"}  # patches that ship with the package, by name


def patch_path(given: str | Path) -> Path:
    """The file a --contract-patch value names: a packaged patch by name, else a path."""
    name = str(given)
    return schemas_dir() / "patches" / PACKAGED[name] if name in PACKAGED else Path(name)


def operations_of(path: Path) -> list[Any]:
    """The patch operations of the file at `path`; one sentence when it is not a patch."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--contract-patch {path} does not exist.") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"--contract-patch {path} cannot be read: {exc}.") from None
    operations = data.get("patch") if isinstance(data, dict) else data
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise UsageError(f"--contract-patch {path} is not a JSON Patch (an array of operations, "
                         "or an object with one under \"patch\").")
    return operations


def patched(registry: ContractRegistry, given: str | Path) -> ContractRegistry:
    """`registry` with the patch `given` applied, every patched schema checked."""
    path = patch_path(given)
    documents: dict[str, Any] = copy.deepcopy(dict(registry.documents))
    for index, operation in enumerate(operations_of(path), start=1):
        where = f"--contract-patch {path}, operation {index} ({operation.get('op')} " \
                f"{operation.get('path')})"
        try:
            documents = jsonpatch.apply_patch(documents, [operation])
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise UsageError(f"{where} does not apply: {exc}.") from None
        except (KeyError, TypeError) as exc:
            raise UsageError(f"{where} is not a JSON Patch operation ({exc}).") from None
    for name, document in documents.items():
        if not isinstance(document, dict):
            raise UsageError(f"--contract-patch {path} leaves {name} not a JSON object.")
        try:
            jsonschema_rs.meta.validate(document)
        except jsonschema_rs.ValidationError as error:
            at = "/" + "/".join(str(part) for part in error.instance_path)
            reason = str(error).split("\n", 1)[0].rstrip(".")
            raise UsageError(f"--contract-patch {path} leaves {name} an invalid schema at "
                             f"{at}: {reason}.") from None
    result = ContractRegistry(registry.directory, documents)
    if not result.manifest.operations:  # loaded here: it must still name schemas that exist
        raise UsageError(f"--contract-patch {path} leaves the contract without operations.")
    return result
