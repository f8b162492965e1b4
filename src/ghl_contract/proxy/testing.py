"""What the proxy's own tests share: a proxy in front of an upstream, an upstream that records what
it sent, the CLI as a child process, and the mock's documented conversion.

Everything listens on 127.0.0.1 and is started by the test that uses it.
"""

from __future__ import annotations

import io
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ghl_contract.findings import Report
from ghl_contract.mock.app import Receive, Scope, Send
from ghl_contract.mock.seed import load_seed
from ghl_contract.mock.server import serve
from ghl_contract.proxy.service import ProxyOptions, RunningProxy, start
from ghl_contract.registry import pinned
from ghl_contract.resources import example_path

TOKEN = load_seed().locations[0].token  # the mock's own token for its first location
ESTIMATE_ID = "5f9d6d8b1b2d2c001f2d9e4b"  # the documented estimate, in the mock's seed
CONVERSION = pinned().manifest.primary.expand({"estimateId": ESTIMATE_ID})
START_TIMEOUT = 30.0
_URL = re.compile(r"http://127\.0\.0\.1:\d+")


def documented_request() -> bytes:
    return example_path("request").read_bytes()


def conversion_headers(token: str = TOKEN) -> dict[str, str]:
    """What the documented conversion sends besides its body."""
    return {"Authorization": f"Bearer {token}", "Version": "2021-07-28",
            "Content-Type": "application/json"}


@dataclass
class Proxied:
    """A proxy being served for a test, and what it streamed."""

    running: RunningProxy
    stream: io.StringIO

    @property
    def url(self) -> str:
        return self.running.url

    def findings(self) -> list[dict[str, Any]]:
        """The NDJSON lines streamed so far, parsed."""
        return [orjson.loads(line) for line in self.stream.getvalue().splitlines()]


@contextmanager
def proxied(upstream: str, **options: Any) -> Iterator[Proxied]:
    """A proxy on a free loopback port in front of `upstream`; `options` of ProxyOptions."""
    stream = io.StringIO()
    with start(ProxyOptions(upstream=upstream, port=0, **options), stream) as running:
        yield Proxied(running, stream)


def report_after(proxy: Proxied) -> Report:
    """The session's report, once the `proxied` block has ended."""
    return proxy.running.report()


@dataclass
class Sent:
    """One answer an upstream app sent, as the ASGI server was given it."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class Recorded:
    """Wraps an ASGI app: every request as it arrived and every answer as it was sent."""

    app: Any
    requests: list[tuple[Scope, bytes]] = field(default_factory=list)
    answers: list[Sent] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        answer = Sent(0, [], b"")

        async def receiving() -> dict[str, Any]:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.status, answer.headers = message["status"], list(message["headers"])
            else:
                answer.body += message.get("body", b"")
            await send(message)

        await self.app(scope, receiving, sending)
        self.requests.append((scope, b"".join(chunks)))
        self.answers.append(answer)


@contextmanager
def served(app: Any) -> Iterator[str]:
    """`app` on a free loopback port; its URL."""
    with serve(app) as running:
        yield running.url


@dataclass
class Child:
    """`ghl-contract proxy` as a child process, and the URL on its first line."""

    process: subprocess.Popen[str]
    url: str

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, str, str]:
        """Send `signum`, wait for the exit; (exit code, rest of stdout, stderr)."""
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


@contextmanager
def proxy_child(*arguments: str, env: dict[str, str] | None = None) -> Iterator[Child]:
    """`ghl-contract proxy --port 0 ARGUMENTS...` until the block ends (killed if still up)."""
    command = [sys.executable, "-m", "ghl_contract", "proxy", "--port", "0", *arguments]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        stdout = process.stdout
        assert stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            first = ""
        found = _URL.search(first)
        if found is None:
            process.kill()
            _, err = process.communicate(timeout=START_TIMEOUT)
            raise AssertionError(f"The proxy printed no URL first ({first!r}); stderr: {err}")
        yield Child(process, found.group(0))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=START_TIMEOUT)


def files_text(*directories: Path) -> str:
    """Every file under `directories`, as one text (to search for a secret)."""
    return "\n".join(path.read_text("utf-8", "replace") for directory in directories
                     for path in sorted(directory.rglob("*")) if path.is_file())
