"""Compressed bodies against `max_response_bytes`: hostile servers on 127.0.0.1 send zstd,
gzip and deflate bombs although we ask for `identity`. The cap holds on the compressed and
on the decoded size, memory stays near the cap, and the event loop is never blocked."""

from __future__ import annotations

import functools
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent_factory.runtime.tools import HttpConfig, ToolConfig, ToolContext, safe_fetch
from agent_factory.runtime.tools.decoding import DecodedTooLarge, DecodeError, decode_body

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
ZEROS = bytes(MIB)


@functools.cache
def zstd_bomb() -> bytes:
    """1 GiB of zeros as a 32 KiB zstd body."""
    import zstandard

    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    body = b"".join(compressor.compress(ZEROS) for _ in range(1024))
    return body + compressor.flush()


@functools.cache
def gzip_bomb() -> bytes:
    """64 MiB of zeros as a 64 KiB gzip body."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join(compressor.compress(ZEROS) for _ in range(64)) + compressor.flush()


def deflate(data: bytes, raw: bool = False) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return compressor.compress(data) + compressor.flush()


def _encode(coding: str, data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data) if coding == "zstd" else gzip(data)


class _Handler(BaseHTTPRequestHandler):
    """Serves `server.routes[path] = (content-encoding, body)`; `/drip` sends a byte a second."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/drip":
            self._drip()
            return
        coding, body = self.server.routes[self.path]  # type: ignore[attr-defined]
        self.server.seen.append(self.headers.get("accept-encoding"))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-encoding", coding)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        for _ in range(30):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(1)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        """The client hangs up on purpose; stay quiet."""


@pytest.fixture
def hostile() -> Iterator[_Server]:
    """A server on 127.0.0.1 that compresses whatever the client asked for."""
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.routes = {}  # type: ignore[attr-defined]
    httpd.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def ctx(cap: int = MIB, timeout_s: float = 10) -> ToolContext:
    http = HttpConfig(allow_hosts=("127.0.0.1",), max_response_bytes=cap)
    return ToolContext(ToolConfig(timeout_s=timeout_s, http=http))


def url(server: _Server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


async def _peak_mib(coroutine) -> tuple[BaseException | object, float]:
    """Run `coroutine` under tracemalloc: (its result or exception, peak MiB traced)."""
    tracemalloc.start()
    try:
        outcome: BaseException | object = await coroutine
    except Exception as exc:  # noqa: BLE001 - the refusal is what the test looks at
        outcome = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return outcome, peak / MIB


@pytest.mark.parametrize("coding, bomb, decoded", [("zstd", zstd_bomb, "1 GiB"), ("gzip", gzip_bomb, "64 MiB")])
async def test_a_compression_bomb_is_refused_with_memory_near_the_cap(hostile, coding, bomb, decoded):
    body = bomb()
    assert len(body) < MIB  # the compressed body itself passes the cap
    hostile.routes["/bomb"] = (coding, body)
    hostile.routes["/warm"] = (coding, _encode(coding, b"warm"))
    await safe_fetch(url(hostile, "/warm"), ctx())  # imports and TLS setup are not the body's cost
    outcome, peak = await _peak_mib(safe_fetch(url(hostile, "/bomb"), ctx()))
    assert str(outcome) == (
        f"response from {url(hostile, '/bomb')} is larger than the limit of {MIB} bytes: "
        f"it decodes to more than the limit of {MIB} bytes (content-encoding: {coding})"
    )
    assert hostile.seen == ["identity", "identity"]  # we asked for no compression; the server sent it anyway
    assert peak < 4, f"{decoded} bomb took {peak:.1f} MiB of Python memory under a 1 MiB cap"


async def test_a_compressed_body_is_capped_by_its_compressed_size_too(hostile):
    hostile.routes["/big"] = ("gzip", gzip_bomb())
    outcome, _ = await _peak_mib(safe_fetch(url(hostile, "/big"), ctx(cap=16 * 1024)))
    assert str(outcome) == f"response from {url(hostile, '/big')} is larger than the limit of 16384 bytes"


@pytest.mark.parametrize("coding, encode", [
    ("gzip", gzip),
    ("x-gzip", gzip),
    ("deflate", deflate),
    ("deflate", functools.partial(deflate, raw=True)),
    ("gzip, gzip", lambda data: gzip(gzip(data))),
])
async def test_honest_compressed_bodies_under_the_cap_are_decoded(hostile, coding, encode):
    text = "héllo " * 1000
    hostile.routes["/ok"] = (coding, encode(text.encode()))
    response = await safe_fetch(url(hostile, "/ok"), ctx())
    assert response.text() == text


async def test_a_zstd_body_under_the_cap_is_decoded(hostile):
    import zstandard

    hostile.routes["/ok"] = ("zstd", zstandard.ZstdCompressor().compress(b"small and honest"))
    assert (await safe_fetch(url(hostile, "/ok"), ctx())).content == b"small and honest"


@pytest.mark.parametrize("coding, body, problem", [
    ("br", b"\x1b\x03\x00", "unsupported content-encoding 'br' (supported: gzip, deflate, zstd)"),
    ("gzip", b"not gzip at all", "the compressed body is corrupt (Error -3 while decompressing data: "
                                 "incorrect header check)"),
    ("gzip", gzip(b"cut short" * 100)[:20], "the compressed body is truncated"),
])
async def test_unknown_corrupt_or_truncated_encodings_are_refused(hostile, coding, body, problem):
    hostile.routes["/odd"] = (coding, body)
    with pytest.raises(Exception) as caught:
        await safe_fetch(url(hostile, "/odd"), ctx())
    assert str(caught.value) == f"cannot decode the response from {url(hostile, '/odd')}: {problem}"


async def test_the_tool_timeout_is_a_hard_deadline_for_a_dripping_server(hostile):
    from agent_factory.runtime.tools import builtin_tools

    started = time.perf_counter()
    result = await builtin_tools()["http_fetch"].invoke({"url": url(hostile, "/drip")}, ctx(timeout_s=1))
    assert result.error == "timed out after 1 s"
    assert time.perf_counter() - started < 10  # the server would drip for 30 s


async def test_a_compressed_body_is_decoded_in_a_worker_thread(hostile, monkeypatch):
    """Decoding never runs on the event loop, where a slow decode would hold every other task."""
    import threading

    from agent_factory.runtime.tools import decoding

    threads: list[bool] = []
    real = decoding._gunzip

    def spy(data: bytes, limit: int) -> bytes:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(data, limit)

    monkeypatch.setitem(decoding._DECODERS, "gzip", spy)
    hostile.routes["/ok"] = ("gzip", gzip(b"decoded elsewhere"))
    assert (await safe_fetch(url(hostile, "/ok"), ctx())).content == b"decoded elsewhere"
    assert threads == [False]


def test_decoding_stops_at_the_limit_plus_one_chunk():
    with pytest.raises(DecodedTooLarge, match="it decodes to more than the limit of 100 bytes"):
        decode_body(gzip(bytes(10_000)), "gzip", 100)
    assert decode_body(gzip(b"abc"), "identity, gzip", 3) == b"abc"
    with pytest.raises(DecodeError, match="unsupported content-encoding 'compress'"):
        decode_body(b"x", "compress", 100)
