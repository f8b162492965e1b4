"""The recorded decisions (schemas/decisions/vendor-openapi.json) are complete: recomputing the
contradictions between HighLevel's invoices.json and the examples gives exactly their keys."""

from __future__ import annotations

from pathlib import Path

from ghl_contract.openapi_source import load_document
from ghl_contract.resources import schemas_dir
from ghl_contract.vendor_lint import (
    KINDS,
    contradictions,
    decisions_path,
    documented_examples,
    load_decisions,
)


def test_the_decisions_file_sits_next_to_the_schemas() -> None:
    assert decisions_path().parent.parent == schemas_dir()
    assert decisions_path().is_file()


def test_every_contradiction_has_exactly_one_recorded_decision(vendor_dir: Path) -> None:
    document = load_document(vendor_dir / "invoices.json")
    found = {c.key: c for c in contradictions(document, "create-invoice-from-estimate",
                                              documented_examples())}
    recorded, _ = load_decisions()  # refuses two decisions for one key
    missing = [f"{key}: the example shows {found[key].example}, the vendor says "
               f"{found[key].vendor} ({', '.join(found[key].origins)})"
               for key in sorted(set(found) - set(recorded))]
    stale = [f"{key}: no such contradiction" for key in sorted(set(recorded) - set(found))]
    assert missing == [], "contradictions without a recorded decision:\n" + "\n".join(missing)
    assert stale == [], "recorded decisions that match nothing:\n" + "\n".join(stale)


def test_each_decision_states_its_choice_and_reason() -> None:
    recorded, _ = load_decisions()
    assert recorded
    for (payload, pointer, kind), decision in recorded.items():
        assert payload in ("request", "response")
        assert pointer.startswith("/")
        assert kind in KINDS
        assert decision.contract.strip(), pointer
        assert len(decision.why.split()) >= 5, pointer
