"""The private cache folder one start hands the next (`agent_factory.usercache`)."""

from __future__ import annotations

import os
import sys

import pytest
from platformdirs import user_cache_path

from agent_factory import usercache


@pytest.mark.skipif(sys.platform != "linux", reason="the cache folder is written out for Linux only")
@pytest.mark.parametrize("xdg, home", [("/x/cache", "/home/a"), ("", "/home/a"), ("relative", "/home/a"),
                                       ("/x/cache", "relative")])
def test_the_cache_folder_is_the_one_platformdirs_names(xdg, home, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    monkeypatch.setenv("HOME", home)
    assert usercache.cache_home() == user_cache_path()


def test_a_value_is_read_back_and_a_damaged_one_is_none(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(usercache.CACHE_ENV, raising=False)
    usercache.write("things", "k", {"a": [1, "b"]})
    assert usercache.read("things", "k") == {"a": [1, "b"]}
    (tmp_path / "agent-factory" / "things" / "k.json").write_text("{", encoding="utf-8")
    assert (usercache.read("things", "k"), usercache.read("things", "other")) == (None, None)
    assert oct((tmp_path / "agent-factory" / "things").stat().st_mode & 0o777) == "0o700"


def test_a_cache_file_nested_past_the_parsers_depth_is_none(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(usercache.CACHE_ENV, raising=False)
    usercache.write("things", "k", [])
    (tmp_path / "agent-factory" / "things" / "k.json").write_text("[" * 100_000, encoding="utf-8")
    assert usercache.read("things", "k") is None


def test_a_file_replaced_with_the_same_size_and_modification_time_has_another_stamp(tmp_path):
    # as an installer that keeps an archive's modification times replaces it
    path, new = tmp_path / "prices.json", tmp_path / "new.json"
    path.write_text("[1]", encoding="utf-8")
    before, when = usercache.stamp(path), path.stat().st_mtime_ns
    new.write_text("[2]", encoding="utf-8")
    os.utime(new, ns=(when, when))
    os.replace(new, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (3, when)
    assert usercache.stamp(path) != before
    assert usercache.stamp(tmp_path / "absent") == str(tmp_path / "absent")
