"""The upstream: its URL checked, one request at start to see that it answers, and the client that
forwards to it.

Requests go through an aiohttp session (its C parser, its keep-alive pool) told to change nothing:
no default header (User-Agent, Accept, Accept-Encoding, Content-Type), no cookie kept from one
answer for the next request, no redirect followed, no body decompressed, no retry of a request
whose connection failed, the path and query sent as they came. It costs half of what httpx's
async transport did per exchange (bench/proxy_latency.py). Certificates are verified as httpx
verifies them (SSL_CERT_FILE and SSL_CERT_DIR honoured, else certifi's); a remote upstream is
reached through the environment's proxy.

aiohttp's errors are translated here, and only here, into the httpx errors the transport's
classification knows (`transport.faults.no_answer`, `transport.budget.NOT_SENT`): not sent,
timed out, or failed on the way.
"""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import yarl

from ghl_contract.errors import UsageError
from ghl_contract.proxy.wire import RawHeaders
from ghl_contract.settings import is_http_url

_LOOPBACK_HOSTS = {"localhost", "::1"}
# Connections to the upstream at once: requests past it wait for one (within the timeout).
MAX_CONNECTIONS = 256
KEEP_ALIVE = 5.0  # seconds an idle connection is kept (httpx's keepalive_expiry)
# The longest line of an answer's head, and header field: httpx (h11) read heads of 100 KiB.
MAX_HEAD_LINE = 100 * 1024
# Headers aiohttp writes unless told not to; the client's own, if it sent them, go as they came.
_NOT_ADDED = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")

# aiohttp's errors, most specific first, as the httpx errors the classification knows.
_TRANSLATED: tuple[tuple[type[Exception], type[Exception]], ...] = (
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, unknown host, certificate
    (aiohttp.InvalidURL, httpx.InvalidURL),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),  # closed before the answer
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),  # the body cut short or malformed
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a head that does not parse
    (aiohttp.ClientConnectionError, httpx.ReadError),  # reset on the way
    (aiohttp.ClientError, httpx.TransportError),
    (ValueError, httpx.LocalProtocolError),  # a request aiohttp refuses to write: never sent
)


def checked_url(url: str) -> str:
    """`url` as the upstream's base URL: absolute http(s), no credentials, query or fragment."""
    if not is_http_url(url):
        raise UsageError(f"--upstream {url!r} is not an absolute http:// or https:// URL.")
    parsed = httpx.URL(url)
    if parsed.userinfo:
        raise UsageError("--upstream must not carry credentials: the client's own requests "
                         "carry theirs.")
    if parsed.query or parsed.fragment:
        raise UsageError(f"--upstream {url!r} has a query or a fragment; give its base URL.")
    return url.rstrip("/")


def _proxy(url: str) -> str | None:
    """The environment's proxy for `url` (HTTPS_PROXY, NO_PROXY..., as httpx's client reads
    them); none for a loopback upstream."""
    parsed = httpx.URL(url)
    host = parsed.host
    if host in _LOOPBACK_HOSTS or host.startswith("127.") or urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(parsed.scheme)


def translated(exc: aiohttp.ClientError | ValueError) -> Exception:
    """`exc` as the httpx error of its kind (to be raised from it)."""
    ours = next(ours for theirs, ours in _TRANSLATED if isinstance(exc, theirs))
    return ours(str(exc) or type(exc).__name__)


def _text(value: bytes) -> str:
    # aiohttp writes header values as UTF-8: UTF-8 goes out byte for byte; other bytes past
    # ASCII (obsolete, and rare) are read as Latin-1 and so go out as their UTF-8 forms.
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class Answer:
    """The upstream's answer: status and headers (names in lower case, as the upstream sent
    them otherwise); its body read with `whole` or `chunks`. `close()` once done with it."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers: RawHeaders = [(name.lower(), value)
                                    for name, value in response.raw_headers]

    def whole(self) -> bytes | None:
        """The whole body if it has all come already (no wait), else None: read `chunks`, which
        also raise what went wrong."""
        content = self._response.content
        if not content.is_eof() or content.exception() is not None:
            return None
        return content.read_nowait()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes as they come, their content coding kept."""
        content = self._response.content
        try:
            while chunk := await content.readany():
                yield chunk
        except aiohttp.ClientError as exc:
            raise translated(exc) from exc

    def close(self) -> None:
        """Give the connection back to the pool (closed instead if the body was not read)."""
        self._response.release()


class _AsSent(aiohttp.ClientRequest):
    """aiohttp's request without two things it does of its own accord: a `Content-Length: 0` on
    a request the client sent without a body or one (a DELETE), and the body held back until
    the upstream answers 100 Continue to the client's Expect (the proxy's server answered the
    client already; the body goes on, as any client that does not wait sends it)."""

    def update_body_from_data(self, body: Any, *args: Any) -> None:
        if body is not None:
            super().update_body_from_data(body, *args)

    def update_expect_continue(self, expect: bool = False) -> None:
        pass  # Expect is forwarded as a header, not waited on


class Upstream:
    """The client the proxy forwards with, for one base URL. Made and closed on the event loop
    that forwards (the server's start-up and shutdown)."""

    def __init__(self, url: str) -> None:
        self._base = url.rstrip("/")
        proxy = _proxy(url)
        self._proxy = yarl.URL(proxy) if proxy else None
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, limit_per_host=0, keepalive_timeout=KEEP_ALIVE,
            ssl=httpx.create_ssl_context(trust_env=True))
        self._session = aiohttp.ClientSession(
            connector=connector, request_class=_AsSent, cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=_NOT_ADDED, timeout=aiohttp.ClientTimeout(total=None),
            max_line_size=MAX_HEAD_LINE, max_field_size=MAX_HEAD_LINE)
        # aiohttp sends an idempotent request again when its connection fails; a proxy that did
        # so would forward one request twice (and the second answer, not the first fault).
        self._session._retry_connection = False

    async def send(self, method: str, target: bytes, headers: RawHeaders,
                   body: bytes | AsyncIterator[bytes]) -> Answer:
        """Send `method` `target` (the raw path and query, put after the base URL's path) with
        `headers` and `body` as they are; the answer once its head has come."""
        try:
            url = yarl.URL(self._base + target.decode("latin-1"), encoded=True)
            response = await self._session.request(
                method, url, headers=[(name.decode("latin-1"), _text(value))
                                      for name, value in headers],
                data=body or None, allow_redirects=False, proxy=self._proxy)
        except (aiohttp.ClientError, ValueError) as exc:
            raise translated(exc) from exc
        return Answer(response)

    async def close(self) -> None:
        await self._session.close()


def check_reachable(url: str, timeout: float) -> None:
    """One HEAD request to the upstream's base URL; any answer will do. A UsageError if none
    comes (refused, unknown host, a certificate that does not verify, no answer in time)."""
    try:
        with httpx.Client(transport=httpx.HTTPTransport(trust_env=True, proxy=_proxy(url)),
                          timeout=timeout, follow_redirects=False) as http:
            http.head(url)
    except httpx.HTTPError as exc:
        reason = (str(exc) or type(exc).__name__).rstrip(".")
        raise UsageError(f"The upstream {url} cannot be reached: {reason}.") from None
