"""Test helpers shipped with Agent Factory: an OpenAI-compatible stub LLM server.

`from agent_factory.testing import StubLLM, reply, error, delay, scripted`
"""

from .stub_llm import StubLLM, StubReply, StubToolCall, count_tokens, delay, error, reply, scripted

__all__ = ["StubLLM", "StubReply", "StubToolCall", "count_tokens", "delay", "error", "reply", "scripted"]
