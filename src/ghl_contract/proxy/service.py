"""A proxy session from start to stop: secrets, findings stream, recording, session, app, server.

`start(options, findings_out)` is what the CLI, the tests and the benchmark use: it serves the
proxy on loopback (by default) until the block ends, then lets the exchanges in flight finish (or
cuts them after the server's grace period), judges what is still waiting and closes the
recording. The session's report is then `running.report()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ghl_contract.findings import Report
from ghl_contract.mock.server import Running, serve
from ghl_contract.proxy.forward import ProxyApp
from ghl_contract.proxy.recording import Recording
from ghl_contract.proxy.redaction import Secrets
from ghl_contract.proxy.session import Session
from ghl_contract.proxy.stream import FindingsStream

DEFAULT_PORT = 4011  # beside `ghl-contract mock`'s 4010, so both can run at once
DEFAULT_TIMEOUT = 30.0  # seconds for a whole exchange: an application's own client waits as long
MAX_BODY = 16 * 1024 * 1024  # bytes of a body kept for the judge (a run's client reads as much)


@dataclass(frozen=True)
class ProxyOptions:
    """What one proxy session is told."""

    upstream: str  # the upstream's base URL, checked (see upstream.checked_url)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    enforce: bool = False
    record_dir: Path | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_body: int = MAX_BODY


@dataclass
class RunningProxy:
    """A proxy being served: its URL, and its session's report once it has stopped."""

    url: str
    server: Running[ProxyApp] = field(repr=False)
    session: Session = field(repr=False)
    secrets: Secrets = field(repr=False)

    def report(self) -> Report:
        return self.session.report()


@contextmanager
def start(options: ProxyOptions, findings_out: TextIO) -> Iterator[RunningProxy]:
    """Serve the proxy until the block ends; findings stream to `findings_out` as they happen."""
    with ExitStack() as stack:
        secrets = Secrets()
        stack.callback(secrets.close)
        recording = (Recording(options.record_dir, options.upstream, secrets)
                     if options.record_dir is not None else None)
        session = Session(options.upstream, stream=FindingsStream(findings_out, secrets),
                          secrets=secrets, recording=recording, timeout=options.timeout,
                          max_body=options.max_body)
        stack.callback(session.close)  # after the server: what is in flight is judged too
        app = ProxyApp(options.upstream, session, secrets, enforce=options.enforce,
                       timeout=options.timeout, max_body=options.max_body)
        running = stack.enter_context(
            serve(app, options.host, options.port, server_headers=False))
        yield RunningProxy(running.url, running, session, secrets)
