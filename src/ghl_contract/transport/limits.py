"""What a server can make the client wait for or hold, and an answer's body read within it.

The body is read raw, counted against `max_body`, and its Content-Encoding (a chain of gzip and
deflate, `gzip, gzip` too) is undone as it comes, never producing more than `max_decoded_body`
bytes: a 24 kB decompression bomb stops at the cap instead of filling the memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import httpx

MiB = 1024 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # what the client asks for, and all it undoes


@dataclass(frozen=True)
class Limits:
    """The bounds of one exchange."""

    request_timeout: float = 10.0  # seconds for the whole exchange: connect, headers, body
    header_timeout: float = 10.0  # seconds for the status line and headers, 1xx answers included
    max_body: int = 16 * MiB  # bytes of body read as it travels
    max_decoded_body: int = 16 * MiB  # bytes of body once its Content-Encoding is undone


@dataclass
class Body:
    """What was read of an answer's body."""

    data: bytes = b""  # decoded; what was read before a limit or an error stopped the reading
    size: int = 0  # bytes read as they travelled
    over: str | None = None  # which limit stopped the reading: a sentence
    undecodable: str | None = None  # why the Content-Encoding could not be undone
    error: httpx.TransportError | None = None  # the connection failed or timed out mid-body


class Undecodable(Exception):
    """A Content-Encoding the client does not undo, or data that is not what it claims."""


class _Inflate:
    """One gzip or deflate layer, undone incrementally with a cap on each step's output."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._gzip = encoding in ("gzip", "x-gzip")
        self._raw_deflate = False  # `deflate` is meant to be zlib-wrapped; some servers send raw
        self._started = False
        self._z = self._new()

    def _new(self) -> zlib._Decompress:
        if self._gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """The bytes `data` decodes to, at most `room + 1` of them (one more than room: over)."""
        out = bytearray()
        while data and len(out) <= room:
            try:
                piece = self._z.decompress(data, room + 1 - len(out))
            except zlib.error as exc:
                if self._gzip or self._started or self._raw_deflate:
                    raise Undecodable(f"its {self.encoding} data is invalid ({exc})") from None
                self._raw_deflate, self._z = True, self._new()
                continue
            self._started = True
            out += piece
            if self._z.unconsumed_tail:
                data = self._z.unconsumed_tail  # the cap stopped it: the loop ends, over room
            elif self._z.eof and self._z.unused_data:
                data, self._z = self._z.unused_data, self._new()  # another gzip member follows
            else:
                data = b""
        return bytes(out)


class Decoder:
    """A Content-Encoding chain, undone from the last coding applied to the first."""

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        unknown = [c for c in codings if c not in ("gzip", "x-gzip", "deflate")]
        if unknown:
            raise Undecodable(f"the client asked for {ACCEPT_ENCODING} only, not "
                              f"{', '.join(unknown)}")
        self._layers = [_Inflate(coding) for coding in reversed(codings)]

    def feed(self, data: bytes, room: int) -> bytes:
        """`data` decoded through every layer; more than `room` bytes means over the cap (no
        layer is asked for more than room + 1 bytes, intermediate ones included)."""
        for layer in self._layers:
            data = layer.feed(data, room)
            if len(data) > room:
                break
        return data


def read_body(response: httpx.Response, limits: Limits) -> Body:
    """Read a streamed answer's body within `limits`; the caller closes the response."""
    body = Body()
    try:
        decoder = Decoder(response.headers.get("content-encoding"))
    except Undecodable as exc:
        decoder, body.undecodable = None, str(exc)
    parts: list[bytes] = []
    decoded = 0
    try:
        for chunk in response.iter_raw():
            body.size += len(chunk)
            if body.size > limits.max_body:
                body.over = (f"the body passed the {_size(limits.max_body)} the client reads "
                             "(--max-body); it stopped reading")
                break
            if decoder is None:
                parts.append(chunk)  # kept as it came, for the record
                continue
            room = limits.max_decoded_body - decoded
            piece = decoder.feed(chunk, room)
            if len(piece) > room:
                parts.append(piece[:room])  # what fits is kept: the record shows how it began
                body.over = (f"the body, its {response.headers.get('content-encoding')} undone, "
                             f"passed the {_size(limits.max_decoded_body)} the client keeps "
                             "(--max-decoded-body); it stopped reading")
                break
            parts.append(piece)
            decoded += len(piece)
    except Undecodable as exc:
        body.undecodable = str(exc)
    except httpx.TransportError as exc:
        body.error = exc
    body.data = b"".join(parts)
    return body


def _size(count: int) -> str:
    if count >= MiB and count % MiB == 0:
        return f"{count // MiB} MiB"
    if count >= 1024 and count % 1024 == 0:
        return f"{count // 1024} KiB"
    return f"{count} bytes"
