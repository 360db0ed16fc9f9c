"""Workspace commands never see the provider keys."""

from __future__ import annotations

from agent_factory.codegen.acceptance import command_env


def test_secrets_are_removed_from_workspace_commands(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("PERPLEXITY_API_KEY", "pplx-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret")
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    monkeypatch.setenv("AF_HARMLESS", "kept")
    env = command_env()
    assert {"ANTHROPIC_API_KEY", "PERPLEXITY_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD"}.isdisjoint(env)
    assert env["AF_HARMLESS"] == "kept"
    assert {"sk-ant-secret", "pplx-secret", "ghp-secret", "hunter2"}.isdisjoint(env.values())
