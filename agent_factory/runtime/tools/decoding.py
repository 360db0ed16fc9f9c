"""Bounded decoding of compressed response bodies (`Content-Encoding`).

We ask for `identity`, but servers may compress anyway, and a 32 KiB zstd body can inflate to
gigabytes. So the fetcher reads the raw bytes (capped like any body), and this module decodes
them in chunks of at most `CHUNK` bytes, stopping as soon as the output passes the same cap.
Memory stays bounded by the cap plus one chunk (zstd windows are limited to 8 MiB, the size
RFC 8878 recommends for HTTP). Encodings are `gzip`, `deflate` and `zstd` (each may be listed
more than once, applied in order); anything else (`br`, `compress`, …) is refused.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

CHUNK = 64 * 1024
ZSTD_MAX_WINDOW = 8 * 1024 * 1024


class DecodeError(Exception):
    """The body cannot be decoded within the limits; the message says why."""


class DecodedTooLarge(DecodeError):
    """The decoded body passed the limit."""


def encodings(header: str) -> list[str]:
    """The codings of a `Content-Encoding` header, in the order they were applied."""
    names = [part.strip().lower() for part in header.split(",")]
    return [name for name in names if name and name != "identity"]


def decode_body(data: bytes, header: str, limit: int) -> bytes:
    """`data` with every coding of `header` undone, never holding more than `limit` (+ one
    chunk) decoded bytes; `DecodedTooLarge` past the limit, `DecodeError` for an unknown coding
    or a corrupt body."""
    for name in reversed(encodings(header)):
        decoder = _DECODERS.get("gzip" if name == "x-gzip" else name)
        if decoder is None:
            raise DecodeError(f"unsupported content-encoding '{name}' (supported: gzip, deflate, zstd)")
        data = decoder(data, limit)
    return data


def _gunzip(data: bytes, limit: int) -> bytes:
    return _inflate(data, zlib.MAX_WBITS | 16, limit)


def _deflate(data: bytes, limit: int) -> bytes:
    """`deflate` is meant to be zlib-wrapped, but some servers send it raw."""
    try:
        return _inflate(data, zlib.MAX_WBITS, limit)
    except DecodedTooLarge:
        raise
    except DecodeError:
        return _inflate(data, -zlib.MAX_WBITS, limit)


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """zlib decoding with `max_length`, so no single step produces more than a chunk."""
    inflater = zlib.decompressobj(wbits)
    out = bytearray()
    pending = data
    try:
        while not inflater.eof:
            chunk = inflater.decompress(pending, min(CHUNK, limit + 1 - len(out)))
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                raise DecodeError("the compressed body is truncated")
            out += chunk
            _check(out, limit)
    except zlib.error as exc:
        raise DecodeError(f"the compressed body is corrupt ({exc})") from None
    return bytes(out)


def _unzstd(data: bytes, limit: int) -> bytes:
    try:
        import zstandard
    except ImportError:  # pragma: no cover - zstandard comes with the declared dependencies
        raise DecodeError("unsupported content-encoding 'zstd' (the zstandard package is not installed)") from None
    decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    reader = decompressor.stream_reader(io.BytesIO(data), read_across_frames=True)
    out = bytearray()
    try:
        while chunk := reader.read(min(CHUNK, limit + 1 - len(out))):
            out += chunk
            _check(out, limit)
    except zstandard.ZstdError as exc:
        raise DecodeError(f"the compressed body is corrupt ({exc})") from None
    return bytes(out)


def _check(out: bytearray, limit: int) -> None:
    if len(out) > limit:
        raise DecodedTooLarge(f"it decodes to more than the limit of {limit} bytes")


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {"gzip": _gunzip, "deflate": _deflate, "zstd": _unzstd}
