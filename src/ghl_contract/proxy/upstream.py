"""The upstream: its URL checked, one request at start to see that it answers, and the transport.

Requests go through httpx's async transport (its connection pool, with httpx's default
certificate verification and, for a remote upstream, the environment's proxy),
not through its client: the client's conveniences would change a request (default headers, auth,
redirects, cookies kept from one answer for the next request) and cost a third of the proxy's
time per exchange (bench/proxy_latency.py).
"""

from __future__ import annotations

import urllib.request

import httpx

from ghl_contract.errors import UsageError
from ghl_contract.settings import is_http_url

_LOOPBACK_HOSTS = {"localhost", "::1"}
# Connections to the upstream at once: requests past it wait for one (within the timeout).
MAX_CONNECTIONS = 256


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


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=MAX_CONNECTIONS,
                        max_keepalive_connections=MAX_CONNECTIONS)


def transport(url: str) -> httpx.AsyncHTTPTransport:
    """The async transport the proxy forwards with; timeouts go with each request. Certificates
    are verified as httpx does by default (SSL_CERT_FILE and SSL_CERT_DIR honoured)."""
    return httpx.AsyncHTTPTransport(trust_env=True, proxy=_proxy(url), limits=_limits())


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
