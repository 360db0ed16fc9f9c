"""An OpenAI-compatible LLM stub server for tests.

`StubLLM` listens on 127.0.0.1 (ephemeral port) in a background thread and answers
`POST /v1/chat/completions` (plain JSON, or SSE when the request says `stream: true`) and
`GET /v1/models`. What it answers is decided by a *handler*: a function from the request's
JSON body to a `StubReply`. Build replies with `reply`, `error`, `delay`; chain them with
`scripted`. Every chat request body is kept in `stub.requests`.

    with StubLLM(scripted([error(500, "boom"), reply("hi")])) as stub:
        litellm.completion(model="openai/x", api_base=stub.base_url, api_key="x", messages=...)

Only the standard library is used, so the stub is cheap to start and safe in any test.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

__all__ = [
    "StubLLM",
    "StubReply",
    "StubToolCall",
    "Handler",
    "reply",
    "error",
    "delay",
    "scripted",
    "count_tokens",
]


@dataclass(frozen=True)
class StubToolCall:
    """One tool call the stub model makes: tool `name` and its `arguments` (a JSON object)."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class StubReply:
    """What the stub answers to one request.

    `kind` is `completion` (`content`, `tool_calls`, optional token counts) or `error`
    (`status` and `message`); `delay_s` seconds pass before anything is sent.
    """

    kind: Literal["completion", "error"] = "completion"
    content: str | None = ""
    tool_calls: tuple[StubToolCall, ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    status: int = 200
    message: str = ""
    delay_s: float = 0.0


Handler = Callable[[dict[str, Any]], StubReply]


def reply(
    text: str | None = "",
    *,
    tool_calls: Iterable[StubToolCall | dict[str, Any]] | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> StubReply:
    """A chat completion answering `text`, optionally with `tool_calls`
    (`StubToolCall` or `{"name": ..., "arguments": {...}}`) and fixed token counts
    (counted roughly from the text when not given)."""
    calls = tuple(_tool_call(c) for c in (tool_calls or ()))
    return StubReply(
        content=text,
        tool_calls=calls,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def _tool_call(call: StubToolCall | dict[str, Any]) -> StubToolCall:
    if isinstance(call, StubToolCall):
        return call
    return StubToolCall(name=call["name"], arguments=dict(call.get("arguments", {})), id=call.get("id"))


def error(status: int, message: str) -> StubReply:
    """An HTTP error `status` with an OpenAI-style error body carrying `message`."""
    return StubReply(kind="error", content=None, status=status, message=message)


def delay(seconds: float, then: StubReply | None = None) -> StubReply:
    """Wait `seconds` before answering `then` (default: an empty completion) — for timeouts."""
    base = then if then is not None else reply("")
    return replace(base, delay_s=base.delay_s + seconds)


def scripted(replies: Iterable[StubReply | Handler]) -> Handler:
    """A handler answering `replies` in order (each a `StubReply` or a handler of its own).

    Once the script is used up every further request gets a 500 whose message says so,
    which the client sees as a clear failure rather than a hang.
    """
    items = list(replies)
    lock = threading.Lock()
    position = 0

    def handle(request: dict[str, Any]) -> StubReply:
        nonlocal position
        with lock:
            index = position
            position += 1
        if index >= len(items):
            return error(500, f"StubLLM script exhausted: request #{index + 1} but only {len(items)} replies scripted")
        item = items[index]
        return item if isinstance(item, StubReply) else item(request)

    return handle


def count_tokens(text: str) -> int:
    """A rough token count (about four characters a token, at least 1 for non-empty text)."""
    return (len(text) + 3) // 4


class StubLLM:
    """An OpenAI-compatible HTTP server on 127.0.0.1 driven by `handler`.

    Use as a context manager or with `start()`/`stop()`. `base_url` is `http://127.0.0.1:PORT/v1`;
    `requests` is a snapshot of the chat request bodies received so far, in arrival order.
    `handler` may also be a single `StubReply`, answered to every request.
    """

    def __init__(self, handler: Handler | StubReply) -> None:
        self.handler: Handler = (lambda _request: handler) if isinstance(handler, StubReply) else handler
        self._requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> StubLLM:
        """Bind an ephemeral port and serve in a daemon thread. Returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_request_handler(self))
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps stop() fast (shutdown waits for the next poll).
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="StubLLM", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending delays are cut short so shutdown is immediate."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------ inspection

    @property
    def port(self) -> int:
        """The port bound by `start()`."""
        if self._server is None:
            raise RuntimeError("StubLLM is not running; call start() or use it as a context manager")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The OpenAI base URL to give a client (`api_base`)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The chat request bodies received so far (a copy, safe to read while serving)."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._requests.clear()

    # ------------------------------------------------------------ serving (called from the server threads)

    def _answer(self, body: dict[str, Any]) -> StubReply:
        with self._lock:
            self._requests.append(body)
        try:
            return self.handler(body)
        except Exception as exc:  # a broken handler must show up in the test, not kill the thread
            return error(500, f"StubLLM handler raised {type(exc).__name__}: {exc}")

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; True when the reply should still be sent."""
        return not self._stopping.wait(seconds) if seconds > 0 else True


# ---------------------------------------------------------------- response bodies


def _usage(reply_: StubReply, body: dict[str, Any]) -> dict[str, int]:
    prompt = reply_.prompt_tokens if reply_.prompt_tokens is not None else _prompt_tokens(body)
    completion = reply_.completion_tokens if reply_.completion_tokens is not None else _completion_tokens(reply_)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _prompt_tokens(body: dict[str, Any]) -> int:
    text = json.dumps(body.get("messages", []), ensure_ascii=False)
    if body.get("tools"):
        text += json.dumps(body["tools"], ensure_ascii=False)
    return max(1, count_tokens(text))


def _completion_tokens(reply_: StubReply) -> int:
    text = reply_.content or ""
    text += "".join(call.name + json.dumps(call.arguments) for call in reply_.tool_calls)
    return max(1, count_tokens(text))


def _tool_call_json(call: StubToolCall, index: int) -> dict[str, Any]:
    return {
        "id": call.id or f"call_{index}_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }


def _completion_json(reply_: StubReply, body: dict[str, Any]) -> dict[str, Any]:
    calls = [_tool_call_json(c, i) for i, c in enumerate(reply_.tool_calls)]
    message: dict[str, Any] = {"role": "assistant", "content": reply_.content}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "stub"),
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop", "logprobs": None}
        ],
        "usage": _usage(reply_, body),
    }


def _error_json(reply_: StubReply) -> dict[str, Any]:
    kind = "invalid_request_error" if 400 <= reply_.status < 500 else "server_error"
    return {"error": {"message": reply_.message, "type": kind, "param": None, "code": str(reply_.status)}}


def _stream_chunks(reply_: StubReply, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The SSE chunks of a streamed completion: role, content pieces, tool calls, finish, usage."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "stub"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    yield chunk({"role": "assistant", "content": ""})
    text = reply_.content or ""
    for start in range(0, len(text), 16):  # several pieces, so clients really reassemble
        yield chunk({"content": text[start : start + 16]})
    for index, call in enumerate(reply_.tool_calls):
        yield chunk({"tool_calls": [{"index": index, **_tool_call_json(call, index)}]})
    yield chunk({}, "tool_calls" if reply_.tool_calls else "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(reply_, body)}


def _models_json() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": "stub", "object": "model", "created": 0, "owned_by": "stub"}]}


# ---------------------------------------------------------------- HTTP plumbing


def _make_request_handler(stub: StubLLM) -> type[BaseHTTPRequestHandler]:
    class _RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like real providers
        disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms delayed-ACK stalls

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
            return

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send_json(200, _models_json())
            else:
                self._send_json(404, {"error": {"message": f"no route GET {self.path}", "type": "not_found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send_json(404, {"error": {"message": f"no route POST {self.path}", "type": "not_found"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError as exc:
                self._send_json(400, {"error": {"message": f"invalid JSON: {exc}", "type": "invalid_request_error"}})
                return
            self._respond(stub._answer(body), body)

        def _respond(self, reply_: StubReply, body: dict[str, Any]) -> None:
            if not stub._sleep(reply_.delay_s):
                return
            try:
                if reply_.kind == "error":
                    self._send_json(reply_.status, _error_json(reply_))
                elif body.get("stream"):
                    self._send_stream(_stream_chunks(reply_, body))
                else:
                    self._send_json(200, _completion_json(reply_, body))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout in the test): nothing left to tell it

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, chunks: Iterator[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")  # the stream ends when the socket closes
            self.end_headers()
            for item in chunks:
                self.wfile.write(b"data: " + json.dumps(item).encode() + b"\n\n")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return _RequestHandler
