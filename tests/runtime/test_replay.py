"""Record LLM answers as cassettes, replay them offline, fail loudly on a miss or a bad file."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from agent_factory.runtime.budget import Budget, CostLedger
from agent_factory.runtime.errors import ConfigError, ReplayMiss
from agent_factory.runtime.replay import ReplayStore, cassette_name, normalise_request, request_key
from agent_factory.runtime.router import ModelHealth, Router
from agent_factory.testing import StubLLM, reply, scripted

SYSTEM = {"role": "system", "content": "You judge startup ideas."}
QUESTION = {"role": "user", "content": "An app that reminds you to drink water."}
TOOLS = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]


def _router(config, store):
    return Router(config, CostLedger(), Budget(Decimal("1")), store, health=ModelHealth())


def _complete(router, step, messages, **kwargs):
    kwargs.setdefault("max_tokens", 200)
    kwargs.setdefault("temperature", 0.2)
    return asyncio.run(router.complete(step, "simple", messages, **kwargs))


@pytest.fixture
def recorded(tmp_path, make_config, alias_table):
    """Two answers recorded from a stub (a tool call, then text); the stub is stopped afterwards."""
    script = scripted([
        reply(None, tool_calls=[{"name": "search", "arguments": {"q": "water apps"}}], prompt_tokens=40, completion_tokens=12),
        reply("Not novel: dozens exist.", prompt_tokens=90, completion_tokens=8),
    ])
    with StubLLM(script) as stub:
        config = make_config(alias_table("local", stub, price_in="0.000001", price_out="0.000002"))
        router = _router(config, ReplayStore(tmp_path, "record"))
        first = _complete(router, "judge", [SYSTEM, QUESTION], tools=TOOLS)
        tool_turn = [SYSTEM, QUESTION, first.message(), {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "12 apps"}]
        second = _complete(router, "judge", tool_turn, tools=TOOLS)
    return config, [first, second], tool_turn


def test_replay_serves_identical_results_with_the_stub_stopped(tmp_path, recorded):
    config, originals, tool_turn = recorded
    router = _router(config, ReplayStore(tmp_path, "replay"))
    replayed = [_complete(router, "judge", [SYSTEM, QUESTION], tools=TOOLS), _complete(router, "judge", tool_turn, tools=TOOLS)]
    fields = ("content", "tool_calls", "alias", "model", "tokens_in", "tokens_out", "cost")
    assert [[getattr(r, f) for f in fields] for r in replayed] == [[getattr(r, f) for f in fields] for r in originals]
    assert [r.replayed for r in replayed] == [True, True]
    assert [(a.outcome, a.tokens_in, a.tokens_out, a.cost) for a in router.ledger.attempts] == [
        ("replayed", 40, 12, Decimal("0.000064")),
        ("replayed", 90, 8, Decimal("0.000106")),
    ]


def test_cassette_recorded_on_one_model_replays_on_another(tmp_path, recorded, make_config):
    _, originals, _ = recorded
    other = make_config(
        '[models.claude]\nmodel = "anthropic/claude-sonnet-4-5"\napi_key_env = "AF_TEST_NEVER_SET"\n'
    )
    result = _complete(_router(other, ReplayStore(tmp_path, "replay")), "judge", [SYSTEM, QUESTION], tools=TOOLS)
    assert (result.alias, result.model, result.tool_calls) == ("claude", "anthropic/claude-sonnet-4-5", originals[0].tool_calls)
    assert result.cost == Decimal("0.000003") * 40 + Decimal("0.000015") * 12


def test_cassette_is_one_readable_file_per_request(tmp_path, recorded):
    _, originals, _ = recorded
    key = request_key(normalise_request([SYSTEM, QUESTION], TOOLS, None, 0.2))
    path = tmp_path / f"judge-{key[:16]}.json"
    assert path.name in [p.name for p in tmp_path.iterdir()] and len(list(tmp_path.iterdir())) == 2
    call_id = originals[0].tool_calls[0].id
    assert path.read_text() == json.dumps(
        {
            "key": key,
            "recorded_with": {"alias": "local", "max_tokens": 200, "model": "openai/local-model"},
            "request": {
                "messages": [SYSTEM, QUESTION],
                "response_format": None,
                "temperature": "0.2",
                "tools": TOOLS,
            },
            "response": {
                "content": None,
                "tool_calls": [{"arguments": '{"q": "water apps"}', "id": call_id, "name": "search"}],
                "usage": {"completion_tokens": 12, "prompt_tokens": 40},
            },
            "step": "judge",
        },
        indent=2,
        sort_keys=True,
    ) + "\n"


def test_replay_miss_names_the_step_shows_the_request_and_the_nearest_cassette(tmp_path, recorded):
    config, _, _ = recorded
    router = _router(config, ReplayStore(tmp_path, "replay"))
    changed = {"role": "user", "content": "An app that reminds you to drink tea."}
    with pytest.raises(ReplayMiss) as caught:
        _complete(router, "judge", [SYSTEM, changed], tools=TOOLS)
    key = request_key(normalise_request([SYSTEM, changed], TOOLS, None, 0.2))
    nearest = request_key(normalise_request([SYSTEM, QUESTION], TOOLS, None, 0.2))
    assert str(caught.value) == "\n".join([
        f"replay miss at step 'judge': no cassette for request key {key[:16]} in {tmp_path}",
        "request:",
        "  {",
        '    "messages": [',
        "      {",
        '        "content": "You judge startup ideas.",',
        '        "role": "system"',
        "      },",
        "      {",
        '        "content": "An app that reminds you to drink tea.",',
        '        "role": "user"',
        "      }",
        "    ],",
        '    "response_format": null,',
        '    "temperature": "0.2",',
        '    "tools": [',
        "      {",
        '        "function": {',
        '          "name": "search",',
        '          "parameters": {',
        '            "type": "object"',
        "          }",
        "        },",
        '        "type": "function"',
        "      }",
        "    ]",
        "  }",
        f"nearest cassette: judge-{nearest[:16]}.json (step 'judge', key {nearest[:16]}); differences:",
        "  --- cassette",
        "  +++ request",
        "  @@ -7,3 +7,3 @@",
        "       {",
        '  -      "content": "An app that reminds you to drink water.",',
        '  +      "content": "An app that reminds you to drink tea.",',
        '         "role": "user"',
    ])
    assert (caught.value.step, caught.value.key) == ("judge", key)
    assert router.budget.reserved == 0 and router.budget.spent == 0


def test_replay_miss_with_no_cassettes_says_so(tmp_path, make_config):
    config = make_config('[models.local]\nmodel = "ollama/llama3"\n')
    router = _router(config, ReplayStore(tmp_path, "replay"))
    with pytest.raises(ReplayMiss) as caught:
        _complete(router, "plan", [{"role": "user", "content": "hi"}], temperature=None)
    key = request_key(normalise_request([{"role": "user", "content": "hi"}]))
    assert str(caught.value) == "\n".join([
        f"replay miss at step 'plan': no cassette for request key {key[:16]} in {tmp_path}",
        "request:",
        "  {",
        '    "messages": [',
        "      {",
        '        "content": "hi",',
        '        "role": "user"',
        "      }",
        "    ],",
        '    "response_format": null,',
        '    "temperature": null,',
        '    "tools": []',
        "  }",
        f"no cassettes recorded in {tmp_path}",
    ])


def _tool_conversation(call_id: str, arguments: str, **extra):
    return [
        QUESTION,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "search", "arguments": arguments}}], **extra},
        {"role": "tool", "tool_call_id": call_id, "content": "12 apps"},
    ]


def test_key_ignores_provider_noise_but_not_content():
    base = request_key(normalise_request(_tool_conversation("call_abc", '{"q": "x", "n": 1}'), TOOLS, None, 0.2))
    same = [
        normalise_request(_tool_conversation("toolu_999", '{"n":1,"q":"x"}'), TOOLS, None, Decimal("0.20")),
        normalise_request(_tool_conversation("call_abc", '{"q": "x", "n": 1}', reasoning_content="hm", refusal=None), TOOLS, None, 0.2),
    ]
    different = [
        normalise_request(_tool_conversation("call_abc", '{"q": "y", "n": 1}'), TOOLS, None, 0.2),
        normalise_request(_tool_conversation("call_abc", '{"q": "x", "n": 1}'), TOOLS, None, 0.3),
        normalise_request(_tool_conversation("call_abc", '{"q": "x", "n": 1}'), None, None, 0.2),
        normalise_request(_tool_conversation("call_abc", '{"q": "x", "n": 1}'), TOOLS, {"type": "json_object"}, 0.2),
    ]
    assert [request_key(n) for n in same] == [base, base]
    assert len({base, *(request_key(n) for n in different)}) == 5


def test_pydantic_response_format_is_keyed_by_its_schema():
    from pydantic import BaseModel

    class Verdict(BaseModel):
        novel: bool

    normalised = normalise_request([QUESTION], None, Verdict)
    assert normalised["response_format"] == {"type": "json_schema", "schema": Verdict.model_json_schema()}


def test_cassette_names_are_filename_safe():
    assert cassette_name("market research/2", "0123456789abcdef0123") == "market_research_2-0123456789abcdef.json"


# ---------------------------------------------------------------- bad cassette files


GOOD = {"key": "ab" * 32, "step": "judge", "request": {"messages": []},
        "response": {"content": "ok", "tool_calls": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}}


@pytest.mark.parametrize("content, problem", [
    (b"", "this cassette is empty; record it again or delete it"),
    (b"  \n", "this cassette is empty; record it again or delete it"),
    (json.dumps(GOOD).encode()[:40],
     "this cassette is not valid JSON (Unterminated string starting at: line 1 column 9 (char 8)); "
     "record it again or delete it"),
    (b"\xff\xfe\x00garbage",
     "cannot read this cassette: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    (b"[1, 2]", "not a cassette (the file: Input should be a valid dictionary)"),
    (json.dumps({**GOOD, "key": 7, "response": {"content": 3}}).encode(),
     "not a cassette (key: Input should be a valid string; response.content: Input should be a valid string)"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "response"}).encode(), "not a cassette (response: Field required)"),
    (json.dumps({**GOOD, "response": {"tool_calls": [{"id": "c1", "name": "search"}]}}).encode(),
     "not a cassette (response.tool_calls.0.arguments: Field required)"),
], ids=["empty", "blank", "truncated", "not-utf8", "a-list", "wrong-types", "no-response", "tool-call-without-arguments"])
def test_a_bad_cassette_file_is_a_clear_error_naming_it(tmp_path, content, problem):
    path = tmp_path / "judge-0123456789abcdef.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        ReplayStore(tmp_path, "replay")
    assert str(caught.value) == f"{path}: {problem}"


def test_a_run_replaying_a_bad_cassette_exits_2_naming_it(tmp_path):
    spec = tmp_path / "one.md"
    spec.write_text(ONE_STEP, encoding="utf-8")
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    (cassettes / "answer-0123456789abcdef.json").write_text('{"key": "abc", "step": "answ', encoding="utf-8")
    cli = Path(sys.executable).with_name("agent-factory")
    done = subprocess.run([str(cli), "run", str(spec), "--input", "tea", "--replay", str(cassettes)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.endswith(
        f"Error: {cassettes / 'answer-0123456789abcdef.json'}: this cassette is not valid JSON "
        "(Unterminated string starting at: line 1 column 24 (char 23)); record it again or delete it\n"
    )


ONE_STEP = """# Agent: One Step

## Purpose
Answers.

## Inputs
- topic: str — the topic

## Outputs
- answer: str — the answer
"""
