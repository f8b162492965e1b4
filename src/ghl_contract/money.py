"""How an invoice total follows from its items, taxes and discount: the one place for that rule.

The rule, as this contract states it (HighLevel documents none):
- a line is ``amount * qty``;
- the discount applies to the eligible lines (all, or those whose productId is listed in
  ``validOnProductIds``): a percentage of each line, or a fixed sum spread over the eligible
  lines in proportion to their value;
- taxes of a line that is not ``taxInclusive`` add ``rate`` percent of the discounted line;
  an inclusive line already contains its taxes;
- the total is rounded half-up to the cent; a server may also round each line's discounted
  amount and tax to the cent before adding them up (``per_line``), and both are taken as right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any, TypeGuard

CENT = Decimal("0.01")
# Digits the rule computes with: every cent of a line of two JSON doubles (1e308 * 1e308 has
# 617 digits before the point), where Decimal's default 28 would fail past 1e26.
PRECISION = 1000


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number")
    return Decimal(str(value))


def to_cents(value: Any) -> Decimal:
    with localcontext(prec=PRECISION):
        return _dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


def invoice_total(items: Sequence[Mapping[str, Any]], discount: Mapping[str, Any] | None, *,
                  per_line: bool = False) -> Decimal:
    """The total the items, their taxes and the discount add up to, to the cent; `per_line`:
    with each line's discounted amount and tax rounded to the cent first."""
    with localcontext(prec=PRECISION):
        return _total(items, discount, per_line)


def _total(items: Sequence[Mapping[str, Any]], discount: Mapping[str, Any] | None,
           per_line: bool) -> Decimal:
    def cents(value: Decimal) -> Decimal:
        return value.quantize(CENT, rounding=ROUND_HALF_UP) if per_line else value

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
        net = cents(line - cut)
        total += net
        if not item.get("taxInclusive", False):
            rates = sum((_dec(tax.get("rate", 0)) for tax in item.get("taxes") or []), Decimal(0))
            total += cents(net * rates / 100)
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


# The float shortcut of `invariants`: within these bounds, every float operation of the rule is
# off by at most 1.1e-16 * FLOAT_LIMIT, and there are fewer than 300,000 of them, so the float total
# is within 0.0004 of the Decimal one. Lines and discounts must not be negative: a sum that cancels
# would lose that bound when it divides the fixed discount.
FLOAT_LIMIT = 1e7
_FLOAT_MAX_ITEMS = 500
_FLOAT_MAX_TAXES = 50
# Exactly int and float: bool is an int, and the Decimal rule rejects it, as it does all else.
_PLAIN_TYPES = (int, float)


def plain_number(value: Any) -> TypeGuard[int | float]:
    """A number the float shortcut may use: int or float (not bool), within FLOAT_LIMIT."""
    return type(value) in _PLAIN_TYPES and -FLOAT_LIMIT < value < FLOAT_LIMIT


def float_total(items: Sequence[Mapping[str, Any]], discount: Mapping[str, Any] | None
                ) -> float | None:
    """`invoice_total` in floating point, unrounded, or None where only the Decimal rule can decide
    (an input that is not a plain number, a negative line or discount, a value out of bounds).

    The same rule as `invoice_total`, step for step; it runs on every payload `check` reads, so
    it tests types inline rather than through helpers, and reads the items once unless a fixed
    discount needs the eligible lines' sum first.
    """
    limit = FLOAT_LIMIT
    if len(items) > _FLOAT_MAX_ITEMS:
        return None
    products: Any = None
    value: Any = 0
    base = 0.0
    if discount:
        products = discount.get("validOnProductIds") or None
        value = discount.get("value", 0) or 0
        if (products is not None and type(products) is not list) or (
                type(value) not in _PLAIN_TYPES or not 0 <= value < limit):
            return None
        if value and discount.get("type") == "fixed":
            for item in items:
                if products is None or item.get("productId") in products:
                    amount, qty = item.get("amount", 0), item.get("qty", 0)
                    if (type(amount) not in _PLAIN_TYPES or type(qty) not in _PLAIN_TYPES
                            or not (0 <= amount < limit and 0 <= qty < limit)):
                        return None
                    base += amount * qty
            if not base < limit:
                return None
            # the fixed sum spread over the eligible lines: each line loses cap * line / base
            value = min(value, base) / base * 100 if base else 0
    total = 0.0
    for item in items:
        amount, qty = item.get("amount", 0), item.get("qty", 0)
        if (type(amount) not in _PLAIN_TYPES or type(qty) not in _PLAIN_TYPES
                or not (0 <= amount < limit and 0 <= qty < limit)):
            return None
        net = amount * qty
        if not net < limit:  # before the discount: a large line it cancels would lose cents
            return None
        if value and (products is None or item.get("productId") in products):
            net -= net * value / 100
            if not -limit < net:
                return None
        total += net
        if not item.get("taxInclusive", False):
            taxes = item.get("taxes")
            if taxes:
                if type(taxes) is not list or len(taxes) > _FLOAT_MAX_TAXES:
                    return None
                rates = 0.0
                for tax in taxes:
                    rate: Any = tax.get("rate", 0) if type(tax) is dict else None
                    if type(rate) not in _PLAIN_TYPES or not -limit < rate < limit:
                        return None
                    rates += rate
                if not -limit < rates < limit:
                    return None
                total += net * rates / 100
        if not -limit < total < limit:
            return None
    return total


# Totals may differ by a cent from either rounding of the rule: the sum, or each line.
TOLERANCE = Decimal("0.01")
# The float shortcut of `total_verdict`: a float total within TOTAL_MARGIN of the stated one is at
# most 0.0094 from the Decimal total (FLOAT_LIMIT), hence under 0.02 after rounding both.
TOTAL_MARGIN = 0.009


def total_verdict(items: Sequence[Mapping[str, Any]], discount: Mapping[str, Any] | None,
                  stated: int | float) -> tuple[Decimal, Decimal] | None:
    """None when `stated` is the total of `items` and `discount` (within TOLERANCE of either
    rounding) or that total cannot be computed (a malformed item: the schema's business); else
    the total as (summed then rounded, rounded line by line).

    It runs on every invoice `check` reads: the float shortcut answers for consistent payloads,
    and the Decimal rule decides every other case.
    """
    if type(stated) in _PLAIN_TYPES and -FLOAT_LIMIT < stated < FLOAT_LIMIT:  # plain_number
        fast = float_total(items, discount)
        if fast is not None and abs(fast - stated) <= TOTAL_MARGIN:
            return None
    try:
        added_up = invoice_total(items, discount)
        by_line = invoice_total(items, discount, per_line=True)
        told = to_cents(stated)
    except (ValueError, ArithmeticError, TypeError, AttributeError):
        return None
    if min(abs(told - added_up), abs(told - by_line)) <= TOLERANCE:
        return None
    return added_up, by_line
