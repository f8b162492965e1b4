"""Documented 200 responses with small variations, for the `check` benchmarks (valid, ~3.4 kB)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import orjson

from ghl_contract.money import invoice_total
from ghl_contract.resources import example_path


def documented_response() -> dict[str, Any]:
    return json.loads(example_path("response-200").read_text(encoding="utf-8"))


def variants(count: int, seed: int = 5) -> Iterator[bytes]:
    """`count` NDJSON lines: the documented response with other ids, amounts, taxes, discounts
    and payments, each still valid against the contract (totals follow from the items)."""
    rng = random.Random(seed)
    template = documented_response()
    item = template["invoice"]["invoiceItems"][0]
    for number in range(count):
        payload = copy.copy(template)
        invoice = payload["invoice"] = dict(template["invoice"])
        invoice["_id"] = f"{number:024x}"
        invoice["invoiceNumber"] = str(1000 + number)
        lines = []
        for line_number in range(rng.choice((1, 1, 2))):
            line = dict(item, _id=f"{number:020x}{line_number:04x}",
                        amount=round(rng.uniform(1, 2000), 2), qty=rng.randint(1, 5))
            if rng.random() < 0.5:
                line["taxes"] = [{"_id": "tax1", "name": "VAT", "rate": 8.5,
                                  "calculation": "exclusive"}]
            lines.append(line)
        invoice["invoiceItems"] = lines
        invoice["discount"] = {"type": "percentage", "value": rng.choice([0, 5, 10])}
        total = float(invoice_total(lines, invoice["discount"]))
        paid = rng.choice([0, round(total / 3, 2)])
        invoice.update(total=total, amountPaid=paid, amountDue=round(total - paid, 2))
        yield orjson.dumps(payload) + b"\n"
