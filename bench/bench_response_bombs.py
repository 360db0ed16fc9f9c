"""Compressed response bombs: memory and time to refuse them, against httpx's own decoding.

A server on 127.0.0.1 answers with a gzip or zstd body that decodes to `--decoded-mib` MiB of
zeros (the compressed body is well under the 1 MiB cap). Measured, in the same run:

- ours: `safe_fetch` under `max_response_bytes = 1 MiB` (raw body capped, bounded decoding in
  a thread), which refuses the body;
- baseline: what the fetcher did before, an httpx stream read with `aiter_bytes()` stopped as
  soon as the decoded bytes pass the same cap.

Prints the peak Python memory (tracemalloc) and the median wall time of each, and their ratios.
Run: `.venv/bin/python bench/bench_response_bombs.py [--quick] [--decoded-mib N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import threading
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import zstandard

from agent_factory.runtime.tools import HttpConfig, ToolConfig, ToolContext, safe_fetch

MIB = 1024 * 1024


def bombs(decoded_mib: int) -> dict[str, bytes]:
    zeros = bytes(MIB)
    gzip = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zstd = zstandard.ZstdCompressor(level=3).compressobj()
    return {
        "gzip": b"".join(gzip.compress(zeros) for _ in range(decoded_mib)) + gzip.flush(),
        "zstd": b"".join(zstd.compress(zeros) for _ in range(decoded_mib)) + zstd.flush(),
    }


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        coding = self.path.strip("/")
        body = self.server.bodies[coding]  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-encoding", coding)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass


async def ours(url: str) -> None:
    ctx = ToolContext(ToolConfig(http=HttpConfig(allow_hosts=("127.0.0.1",), max_response_bytes=MIB)))
    try:
        await safe_fetch(url, ctx)
    except Exception as exc:  # noqa: BLE001 - the refusal is the expected outcome
        assert "decodes to more than" in str(exc), exc
    else:
        raise AssertionError("the bomb was not refused")


async def baseline(url: str) -> None:
    async with httpx.AsyncClient() as client, client.stream("GET", url) as response:
        seen = 0
        async for chunk in response.aiter_bytes():
            seen += len(chunk)
            if seen > MIB:
                return
    raise AssertionError("the cap was never passed")


async def measure(fetch, url: str, repeats: int) -> tuple[float, float]:
    """(peak MiB, median seconds) over `repeats` runs after one warm-up."""
    await fetch(url)
    peaks, times = [], []
    for _ in range(repeats):
        tracemalloc.start()
        started = time.perf_counter()
        await fetch(url)
        times.append(time.perf_counter() - started)
        peaks.append(tracemalloc.get_traced_memory()[1] / MIB)
        tracemalloc.stop()
    return max(peaks), statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats instead of 7")
    parser.add_argument("--decoded-mib", type=int, default=256, help="decoded size of each bomb (MiB)")
    options = parser.parse_args()
    repeats = 2 if options.quick else 7
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, bombs of {options.decoded_mib} MiB decoded, "
          f"cap 1 MiB, {repeats} repeats")
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.bodies = bombs(options.decoded_mib)  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    print(f"{'coding':6} {'compressed':>10} {'ours MiB':>9} {'base MiB':>9} {'mem ratio':>9} "
          f"{'ours ms':>8} {'base ms':>8} {'time ratio':>10}")
    for coding, body in httpd.bodies.items():  # type: ignore[attr-defined]
        url = f"http://127.0.0.1:{port}/{coding}"
        our_peak, our_time = await measure(ours, url, repeats)
        base_peak, base_time = await measure(baseline, url, repeats)
        print(f"{coding:6} {len(body) // 1024:>7} KiB {our_peak:>9.2f} {base_peak:>9.1f} {our_peak / base_peak:>9.4f} "
              f"{our_time * 1000:>8.1f} {base_time * 1000:>8.1f} {our_time / base_time:>10.3f}")
    httpd.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
