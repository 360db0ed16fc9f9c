"""The stub LLM server answers the real litellm HTTP path (no mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time

import httpx
import pytest

from agent_factory.testing import StubLLM, count_tokens, delay, error, reply, scripted

MESSAGES = [{"role": "user", "content": "hello there"}]


def _complete(litellm, stub, **kwargs):
    return litellm.completion(
        model="openai/stub-model", api_base=stub.base_url, api_key="x", messages=MESSAGES, max_retries=0, **kwargs
    )


def test_plain_text_reply_with_given_usage(litellm):
    with StubLLM(reply("hi world", prompt_tokens=7, completion_tokens=3)) as stub:
        response = _complete(litellm, stub)
    assert response.choices[0].message.content == "hi world"
    assert response.choices[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (7, 3, 10)
    assert stub.requests == [{"model": "stub-model", "messages": MESSAGES}]


def test_default_usage_is_counted_from_the_text(litellm):
    with StubLLM(reply("0123456789")) as stub:
        response = _complete(litellm, stub)
    assert response.usage.prompt_tokens == count_tokens(json.dumps(MESSAGES))
    assert response.usage.completion_tokens == 3


def test_tool_calls_reach_litellm(litellm):
    call = {"name": "search", "arguments": {"query": "agents", "limit": 3}}
    with StubLLM(reply(None, tool_calls=[call])) as stub:
        response = _complete(litellm, stub)
    message = response.choices[0].message
    assert message.content is None
    assert response.choices[0].finish_reason == "tool_calls"
    assert [(c.function.name, json.loads(c.function.arguments), c.type) for c in message.tool_calls] == [
        ("search", {"query": "agents", "limit": 3}, "function")
    ]


def test_http_500_raises_litellm_internal_server_error(litellm):
    with StubLLM(error(500, "boom")) as stub:
        with pytest.raises(litellm.InternalServerError) as caught:
            _complete(litellm, stub)
    assert caught.value.status_code == 500
    assert str(caught.value) == "litellm.InternalServerError: InternalServerError: OpenAIException - boom"


def test_http_429_raises_rate_limit_error(litellm):
    with StubLLM(error(429, "slow down")) as stub:
        with pytest.raises(litellm.RateLimitError):
            _complete(litellm, stub)


def test_streaming_text_is_reassembled(litellm):
    text = "a streamed answer longer than one chunk"
    with StubLLM(reply(text)) as stub:
        chunks = list(_complete(litellm, stub, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == text
    assert stub.requests[0]["stream"] is True


def test_streaming_tool_calls_and_usage(litellm):
    call = {"name": "lookup", "arguments": {"id": 42}}
    with StubLLM(reply(None, tool_calls=[call], prompt_tokens=11, completion_tokens=5)) as stub:
        chunks = list(_complete(litellm, stub, stream=True, stream_options={"include_usage": True}))
    built = litellm.stream_chunk_builder(chunks)
    calls = built.choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [("lookup", {"id": 42})]
    assert (built.usage.prompt_tokens, built.usage.completion_tokens) == (11, 5)


def test_delay_makes_the_client_time_out(litellm):
    with StubLLM(delay(2, reply("late"))) as stub:
        started = time.perf_counter()
        with pytest.raises(litellm.Timeout):
            _complete(litellm, stub, timeout=0.3)
        assert time.perf_counter() - started < 1.5
    assert len(stub.requests) == 1


def test_delay_shorter_than_timeout_answers(litellm):
    with StubLLM(delay(0.05, reply("on time"))) as stub:
        assert _complete(litellm, stub, timeout=2).choices[0].message.content == "on time"


def test_async_completion_works(litellm):
    async def run():
        with StubLLM(reply("async hi")) as stub:
            response = await litellm.acompletion(
                model="openai/stub-model", api_base=stub.base_url, api_key="x", messages=MESSAGES, max_retries=0
            )
        return response.choices[0].message.content

    assert asyncio.run(run()) == "async hi"


def test_scripted_replies_in_order_then_fails_clearly(litellm):
    with StubLLM(scripted([reply("one"), reply("two")])) as stub:
        answers = [_complete(litellm, stub).choices[0].message.content for _ in range(2)]
        with pytest.raises(litellm.InternalServerError) as caught:
            _complete(litellm, stub)
    assert answers == ["one", "two"]
    assert "StubLLM script exhausted: request #3 but only 2 replies scripted" in str(caught.value)


def test_scripted_accepts_handlers_that_see_the_request(litellm):
    echo = lambda request: reply(request["messages"][-1]["content"].upper())  # noqa: E731
    with StubLLM(scripted([echo])) as stub:
        assert _complete(litellm, stub).choices[0].message.content == "HELLO THERE"


def test_handler_exception_becomes_a_500_naming_it(litellm):
    def broken(request):
        raise KeyError("nope")

    with StubLLM(broken) as stub:
        with pytest.raises(litellm.InternalServerError) as caught:
            _complete(litellm, stub)
    assert "StubLLM handler raised KeyError: 'nope'" in str(caught.value)


def test_models_endpoint_and_unknown_route():
    with StubLLM(reply("x")) as stub:
        models = httpx.get(f"{stub.base_url}/models").json()
        missing = httpx.post(f"{stub.base_url}/embeddings", json={})
    assert models["data"][0]["id"] == "stub"
    assert missing.status_code == 404


def test_start_stop_and_base_url():
    stub = StubLLM(reply("x")).start()
    try:
        assert stub.base_url == f"http://127.0.0.1:{stub.port}/v1"
    finally:
        stub.stop()
    with pytest.raises(RuntimeError, match="StubLLM is not running"):
        stub.base_url


def test_requests_are_recorded_from_concurrent_clients():
    with StubLLM(reply("x")) as stub:
        url = f"{stub.base_url}/chat/completions"
        threads = [
            threading.Thread(target=httpx.post, args=(url,), kwargs={"json": {"model": "m", "n": i}}) for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(r["n"] for r in stub.requests) == list(range(8))


def test_stop_cuts_pending_delays_short():
    stub = StubLLM(delay(30)).start()

    def post() -> None:
        # the stopped stub leaves this request unanswered: its error is expected, and caught here so
        # it is not reported as an unhandled thread exception in whichever test runs five seconds later
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"{stub.base_url}/chat/completions", json={}, timeout=5)

    client = threading.Thread(target=post, daemon=True)
    client.start()
    while not stub.requests:
        time.sleep(0.01)
    started = time.perf_counter()
    stub.stop()
    assert time.perf_counter() - started < 2
