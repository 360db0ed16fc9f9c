"""current_time shows the context's clock in an IANA time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent_factory.runtime.tools import ToolContext, builtin_tools

pytestmark = pytest.mark.anyio

FIXED = ToolContext(clock=lambda: datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))


async def test_utc_is_the_default():
    result = await builtin_tools()["current_time"].invoke({}, FIXED)
    assert result.content == {
        "timezone": "UTC",
        "datetime": "2025-01-02T03:04:05+00:00",
        "utc_offset": "+00:00",
        "weekday": "Thursday",
    }


async def test_other_zones_are_converted():
    result = await builtin_tools()["current_time"].invoke({"timezone": "America/St_Johns"}, FIXED)
    assert result.content == {
        "timezone": "America/St_Johns",
        "datetime": "2025-01-01T23:34:05-03:30",
        "utc_offset": "-03:30",
        "weekday": "Wednesday",
    }


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "../../etc/passwd", "utc "])
async def test_unknown_zones_are_explained(name):
    result = await builtin_tools()["current_time"].invoke({"timezone": name}, FIXED)
    assert result.error == f"unknown time zone {name!r}; use an IANA name such as 'UTC' or 'Europe/Paris'"


async def test_the_real_clock_is_used_by_default():
    before = datetime.now(UTC).replace(microsecond=0)
    result = await builtin_tools()["current_time"].invoke({}, ToolContext())
    assert before <= datetime.fromisoformat(result.content["datetime"]) <= datetime.now(UTC)
