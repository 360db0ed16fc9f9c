"""docs/api.md: every curl example runs against a live server and answers with the status line the
guide shows (the ```sh block followed by an ```http block)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"```sh\n(.*?)```\n\n```http\nHTTP/1\.1 (\d{3})[^\n]*\n\n(.*?)```", re.S)
ERROR_CODE = re.compile(r'^\{"error": "(\w+)"')


def examples() -> list[tuple[str, int, str]]:
    return [(command, int(status), body) for command, status, body in EXAMPLE.findall((ROOT / "docs/api.md").read_text())]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the guide's examples are curl commands")
def test_every_curl_example_of_the_api_guide_answers_as_documented(client, live_server, two_teams):
    acme, globex = two_teams
    env = {**os.environ, "AF": live_server.url, "KEY": acme.key, "OTHER_KEY": globex.key}
    found = examples()
    assert len(found) >= 8
    for command, status, documented in found:
        out = subprocess.run(["bash", "-c", command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        head, _, body = out.stdout.replace("\r\n", "\n").partition("\n\n")
        assert head.split("\n")[0].split(" ")[1] == str(status), f"{command}\n{out.stdout}{out.stderr}"
        answer = json.loads(body)
        expected_error = ERROR_CODE.match(documented)
        if expected_error:
            assert answer["error"] == expected_error.group(1)
        if isinstance(answer, dict) and "version" in answer and "id" in answer:
            env["AGENT_ID"] = answer["id"]
    assert "AGENT_ID" in env
