"""The run's client, built from its settings: the one place where the transport meets them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator

from ghl_contract.settings import RunSettings
from ghl_contract.transport.budget import WriteBudget
from ghl_contract.transport.client import Client, ExchangeHook, RequestHook
from ghl_contract.transport.limits import Limits
from ghl_contract.transport.recording import HarRecorder


def limits_of(settings: RunSettings) -> Limits:
    return Limits(request_timeout=settings.request_timeout,
                  header_timeout=settings.header_timeout, max_body=settings.max_body,
                  max_decoded_body=settings.max_decoded_body)


@contextlib.contextmanager
def open_client(settings: RunSettings, *, base_url: str, token: str | None,
                secrets: Iterable[str | None] = (), on_exchange: Iterable[ExchangeHook] = (),
                before_request: Iterable[RequestHook] = (),
                api_version: str | None = None, started: float | None = None,
                clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> Iterator[Client]:
    """The client of a run against `base_url` with `token`, its HAR recording (--record) among
    its hooks; both closed at the end of the block. `started`: when the run began on `clock`
    (its deadline counts from there, set-up included); default now."""
    secrets = (settings.token, *secrets)
    with contextlib.ExitStack() as stack:
        hooks = list(on_exchange)
        if settings.record_dir is not None:
            hooks.append(stack.enter_context(HarRecorder(
                settings.record_dir, (token, *secrets), max_body=settings.max_recorded_body)))
        yield stack.enter_context(Client(
            base_url, token=token, api_version=api_version or settings.api_version,
            limits=limits_of(settings),
            budget=WriteBudget(live=settings.live, allow_writes=settings.allow_writes,
                               max_writes=settings.max_writes),
            rate_limit=settings.effective_rate_limit, run_timeout=settings.run_timeout,
            started=started,
            secrets=secrets, on_exchange=hooks, before_request=before_request, clock=clock,
            sleep=sleep))
