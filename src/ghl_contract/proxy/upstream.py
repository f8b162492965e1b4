"""The upstream: its URL checked, one request at start to see that it answers, and the client.

The client is httpx's async client with its defaults where they are safe (certificate
verification, the environment's proxies and CA settings for a remote upstream) and none of its
conveniences that would change a request: no default headers (the request is built by hand), no
redirects followed, no cookie kept from one client's answer for another's request.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy

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


def _is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


def client(url: str, timeout: float) -> httpx.AsyncClient:
    """The async client the proxy forwards with."""
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        # Proxies and CA settings from the environment are for a remote upstream.
        trust_env=not _is_loopback(url),
        cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # keeps none
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS,
                            max_keepalive_connections=MAX_CONNECTIONS),
    )


def check_reachable(url: str, timeout: float) -> None:
    """One HEAD request to the upstream's base URL; any answer will do. A UsageError if none
    comes (refused, unknown host, a certificate that does not verify, no answer in time)."""
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False,
                          trust_env=not _is_loopback(url)) as http:
            http.head(url)
    except httpx.HTTPError as exc:
        reason = (str(exc) or type(exc).__name__).rstrip(".")
        raise UsageError(f"The upstream {url} cannot be reached: {reason}.") from None
