"""BodyLimit on its own: which requests it counts, and the 413 it answers once a body is too large."""

from __future__ import annotations

import asyncio
import json

from agent_factory.platform.limits import BodyLimit


def call(limit: BodyLimit, headers: list[tuple[bytes, bytes]], chunks: list[bytes], http_version: str = "1.1"):
    """Run one request through `limit`; returns (the messages sent, the body the app read)."""
    read: list[bytes] = []
    sent: list[dict] = []
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def app(scope, receive, send):
        while True:
            message = await receive()
            read.append(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        return pending.pop(0)

    async def send(message):
        sent.append(message)

    limit.app = app
    scope = {"type": "http", "http_version": http_version, "method": "POST", "headers": headers}
    asyncio.run(limit(scope, receive, send))
    return sent, b"".join(read)


def too_large(sent: list[dict]) -> bool:
    return sent[0]["status"] == 413 and json.loads(sent[1]["body"]) == {
        "error": "payload_too_large", "detail": "the body is larger than 10 bytes"}


def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs():
    sent, read = call(BodyLimit(None, max_bytes=10), [(b"content-length", b"11")], [b"x" * 11])
    assert too_large(sent) and read == b""


def test_a_chunked_body_is_counted_as_it_streams_in():
    sent, read = call(BodyLimit(None, max_bytes=10), [(b"transfer-encoding", b"chunked")], [b"x" * 6, b"x" * 6])
    assert too_large(sent) and read == b"x" * 6
    sent, read = call(BodyLimit(None, max_bytes=10), [(b"transfer-encoding", b"chunked")], [b"x" * 5, b"x" * 5])
    assert (sent[0]["status"], read) == (200, b"x" * 10)


def test_without_a_length_or_chunking_only_http_1_skips_counting():
    # HTTP/1 framing gives such a request no body; a later protocol frames bodies differently
    sent, read = call(BodyLimit(None, max_bytes=10), [], [b""])
    assert (sent[0]["status"], read) == (200, b"")
    sent, read = call(BodyLimit(None, max_bytes=10), [], [b"x" * 6, b"x" * 6], http_version="2")
    assert too_large(sent)
