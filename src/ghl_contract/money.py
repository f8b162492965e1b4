"""How an invoice total follows from its items, taxes and discount: the one place for that rule.

The rule, as this contract states it (HighLevel documents none):
- a line is ``amount * qty``;
- the discount applies to the eligible lines (all, or those whose productId is listed in
  ``validOnProductIds``): a percentage of each line, or a fixed sum spread over the eligible
  lines in proportion to their value;
- taxes of a line that is not ``taxInclusive`` add ``rate`` percent of the discounted line;
  an inclusive line already contains its taxes;
- the total is rounded half-up to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number")
    return Decimal(str(value))


def to_cents(value: Any) -> Decimal:
    return _dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


def invoice_total(items: Sequence[Mapping[str, Any]], discount: Mapping[str, Any] | None) -> Decimal:
    """The total the items, their taxes and the discount add up to, to the cent."""
    lines = [_dec(item.get("amount", 0)) * _dec(item.get("qty", 0)) for item in items]
    discount = discount or {}
    products = discount.get("validOnProductIds") or None
    eligible = [
        products is None or item.get("productId") in products for item in items
    ]
    base = sum((line for line, ok in zip(lines, eligible, strict=True) if ok), Decimal(0))
    value = _dec(discount.get("value", 0) or 0)
    total = Decimal(0)
    for item, line, ok in zip(items, lines, eligible, strict=True):
        cut = Decimal(0)
        if ok and value:
            if discount.get("type") == "fixed":
                cut = min(value, base) * line / base if base else Decimal(0)
            else:
                cut = line * value / 100
        net = line - cut
        total += net
        if not item.get("taxInclusive", False):
            rates = sum((_dec(tax.get("rate", 0)) for tax in item.get("taxes") or []), Decimal(0))
            total += net * rates / 100
    return total.quantize(CENT, rounding=ROUND_HALF_UP)
