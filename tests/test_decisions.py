"""The recorded decisions (schemas/decisions/vendor-openapi.json) are complete and exact:
recomputing the contradictions of every operation of the manifest in HighLevel's invoices.json
gives exactly the places they cover, one decision each."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghl_contract.decisions import KINDS, Decision, Decisions, decisions_path, load_decisions
from ghl_contract.openapi_source import load_document
from ghl_contract.registry import pinned
from ghl_contract.resources import schemas_dir
from ghl_contract.vendor_lint import Contradiction, lint_operation

OPERATIONS = [operation.id for operation in pinned().manifest]


@pytest.fixture(scope="module")
def found(vendor_dir: Path) -> dict[str, list[Contradiction]]:
    """The contradictions of each operation, computed without any decision."""
    document = load_document(vendor_dir / "invoices.json")
    return {operation.id: lint_operation(document, operation, pinned(), Decisions(())
                                         ).contradictions
            for operation in pinned().manifest}


def test_the_decisions_file_sits_next_to_the_schemas() -> None:
    assert decisions_path().parent.parent == schemas_dir()
    assert decisions_path().is_file()


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_contradiction_has_exactly_one_recorded_decision(
        found: dict[str, list[Contradiction]], operation_id: str) -> None:
    operation = pinned().manifest.get(operation_id)
    recorded = load_decisions()
    unrecorded, twice = [], []
    for item in found[operation_id]:
        covering = [d for d in recorded.decisions if d.kind == item.kind
                    and (item.payload, item.pointer) in d.places(operation)]
        where = f"{item.payload} {item.pointer} ({item.kind}): {item.example}"
        if not covering:
            unrecorded.append(f"{where}, vendor {item.vendor}, contract {item.contract}")
        elif len(covering) > 1:
            twice.append(where)
    assert unrecorded == [], "contradictions without a recorded decision:\n" + "\n".join(
        unrecorded)
    assert twice == []


def test_every_recorded_decision_covers_a_contradiction(
        found: dict[str, list[Contradiction]]) -> None:
    manifest = pinned().manifest
    stale = [f"{d.scope} {d.pointer} ({d.kind})" for d in load_decisions().decisions
             if not any(d.kind == item.kind and (item.payload, item.pointer) in d.places(
                 manifest.get(operation_id))
                 for operation_id, items in found.items() for item in items)]
    assert stale == []


@pytest.mark.parametrize("entry", [*load_decisions().decisions, *load_decisions().notes],
                         ids=lambda d: f"{d.scope}:{d.pointer}:{d.kind or 'note'}")
def test_each_entry_names_a_scope_the_manifest_knows(entry: Decision) -> None:
    assert any(entry.places(operation) for operation in pinned().manifest)


def test_each_decision_states_its_choice_and_reason() -> None:
    recorded = load_decisions()
    assert recorded.decisions
    for decision in recorded.decisions:
        assert decision.kind in KINDS
        assert decision.pointer.startswith("/"), decision.scope
        assert decision.contract.strip(), decision.pointer
        assert len(decision.why.split()) >= 5, decision.pointer


def test_decisions_of_an_object_apply_wherever_the_object_is() -> None:
    """One decision about the estimate covers it in the conversion's body, the 201 of
    create-new-estimate, delete-estimate's 200 and every item of list-estimates."""
    history = next(d for d in load_decisions().decisions
                   if d.object == "estimate" and d.pointer == "/estimateActionHistory/*")
    places = {operation.id: history.places(operation) for operation in pinned().manifest}
    assert {key: value for key, value in places.items() if value} == {
        "create-invoice-from-estimate": [("response", "/estimate/estimateActionHistory/*")],
        "create-new-estimate": [("response", "/estimateActionHistory/*")],
        "delete-estimate": [("response", "/estimateActionHistory/*")],
        "list-estimates": [("response", "/estimates/*/estimateActionHistory/*")],
    }
