"""What the proxy changes on the wire and what it does not: hop-by-hop headers (RFC 9110, 7.6.1),
the Host of the upstream, and content codings undone (within a bound) for the judge only.

Everything else passes as it came: end-to-end headers with their values and order, the path and
query as raw bytes, the body bytes. Header names reach the upstream and the client in lower case,
as HTTP/2 writes them: names are case-insensitive (RFC 9110, 5.1) and the ASGI server lowers them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

RawHeaders = list[tuple[bytes, bytes]]

# Meaningful for one connection only (RFC 9110, 7.6.1), plus what RFC 2616 also named: Trailer and
# the Proxy-Authenticate / Proxy-Authorization pair, which are the business of the next proxy (this
# one asks for no credentials of its own). Host is the upstream's, written by the client library.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding",
    b"upgrade", b"proxy-authenticate", b"proxy-authorization",
})


def end_to_end(headers: Iterable[tuple[bytes, bytes]], *, host: bool = False) -> RawHeaders:
    """`headers` without the hop-by-hop ones, nor those a Connection header names; without Host
    unless `host`."""
    headers = list(headers)
    dropped = set(HOP_BY_HOP)
    if not host:
        dropped.add(b"host")
    for name, value in headers:
        if name.lower() == b"connection":
            dropped.update(token.strip().lower() for token in value.split(b",") if token.strip())
    return [(name, value) for name, value in headers if name.lower() not in dropped]


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of header `name` (lower case), as text."""
    return next((value.decode("latin-1") for key, value in headers if key.lower() == name), None)


def by_name(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Headers as the judge reads them: lower-case names, repeated ones joined with a comma."""
    joined: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


class TooLarge(Exception):
    """A decoded body would pass the bound."""


class UnknownCoding(Exception):
    """A content coding the judge cannot undo (br, zstd...)."""


# wbits for zlib: gzip, zlib-wrapped deflate, and the raw deflate some servers send as `deflate`.
_WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}


def decoded(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """`body` with its content codings undone, last applied first; at most `limit` bytes.

    Raises TooLarge past the limit (a small gzip stream can unpack to gigabytes) and UnknownCoding
    for a coding other than gzip, deflate and identity.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in _WBITS:
            raise UnknownCoding(coding)
        body = _inflate(body, _WBITS[coding], limit)
    return body


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    try:
        return _inflate_with(body, wbits, limit)
    except zlib.error:
        if wbits != 15:
            raise
        return _inflate_with(body, -15, limit)  # deflate without its zlib wrapper


def _inflate_with(body: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge
    out += inflater.flush()
    if len(out) > limit:
        raise TooLarge
    return out
