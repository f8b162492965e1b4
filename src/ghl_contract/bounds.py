"""How deep the checker walks a payload: values nested past the depth limit are one finding.

A payload that breaks the contract is walked to locate and word each change, by jsonschema-rs
(which gives up past 255 levels with "Recursion limit reached") and by the reports (orjson
writes at most 255 levels). So such a payload is walked only down to `settings.MAX_DEPTH`
levels: the arrays and objects below are replaced by empty ones of the same type, and the rest
is judged as usual. Where that judgement has a finding on the way to a cut (a string field that
became 300 nested arrays: type-changed at the field), a nesting-too-deep finding joins it there;
where the contract leaves the deep value open (a free-form `meta`), the cut changes no verdict
and nothing is added. A valid payload is never walked here: its depth is no drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ghl_contract.findings import Finding, pointer
from ghl_contract.rules import finding
from ghl_contract.settings import MAX_DEPTH

Path = tuple[Any, ...]


def depth_bounded(judge: Callable[[Any], list[Finding]], payload: Any, source: str | None,
                  limit: int | None = None) -> list[Finding]:
    """`judge(payload)`, or, for a payload nested deeper than `limit` levels, the judgement of
    its copy cut at that depth with the nesting-too-deep findings where the cuts are."""
    limit = MAX_DEPTH.value() if limit is None else limit
    if not _deeper_than(payload, limit):
        return judge(payload)
    cuts: list[str] = []
    found = judge(_cut(payload, limit, (), cuts))
    # a finding at or under a cut judges the empty stand-in, not the payload
    kept = [f for f in found if not any(_within(f.pointer, cut) for cut in cuts)]
    depth = nesting(payload)
    anchors: list[str] = []
    for cut in cuts:
        on_the_way = [f.pointer for f in kept if f.breaking and _within(cut, f.pointer)]
        if on_the_way:
            anchors.append(min(on_the_way, key=len))
        elif not kept:
            anchors.append(cut)  # the payload breaks the contract only below the cut
    for at in dict.fromkeys(anchors):
        where = at or "The payload"
        kept.append(replace(finding(
            "nesting-too-deep", at,
            f"{where} holds arrays or objects nested {depth} levels deep, past the {limit} "
            f"levels the checker walks ({MAX_DEPTH.env}).", f"at most {limit} levels",
            f"{depth} levels"), source=source))
    return kept


def nesting(value: Any) -> int:
    """How many arrays and objects nest in `value` at its deepest (a scalar: 0), without
    recursion."""
    depth, level = 0, [value]
    while level := [item for item in level if isinstance(item, dict | list)]:
        depth += 1
        level = [child for container in level
                 for child in (container.values() if isinstance(container, dict) else container)]
    return depth


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels in `value` (breadth first,
    without recursion, stopping at the first level past the limit)."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [child for container in level
                 for child in (container.values() if isinstance(container, dict) else container)
                 if isinstance(child, dict | list)]
        if not level:
            return False
    return bool(level)


def _cut(value: Any, levels: int, path: Path, cuts: list[str]) -> Any:
    """A copy of `value` with the arrays and objects below `levels` levels emptied; their
    pointers go to `cuts`. Recursion stays within `levels` (the depth limit)."""
    if not isinstance(value, dict | list):
        return value
    if levels == 0:
        cuts.append(pointer(path))
        return {} if isinstance(value, dict) else []
    if isinstance(value, dict):
        return {key: _cut(child, levels - 1, (*path, key), cuts) for key, child in value.items()}
    return [_cut(child, levels - 1, (*path, index), cuts) for index, child in enumerate(value)]


def _within(at: str, top: str) -> bool:
    """Whether pointer `at` is `top` or under it (exact keys: no wildcard)."""
    return at == top or at.startswith(top + "/") or not top
