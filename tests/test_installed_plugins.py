"""Installed plugins are found through their entry points once per set of installed packages."""

from __future__ import annotations

import importlib.metadata
import os
import sys

import pytest

from agent_factory.compiler import passes

EXAMPLE = ("example", "af_example_plugin", "")


@pytest.fixture
def scans(tmp_path, monkeypatch):
    """A private cache folder; the entry-point scans made."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("AGENT_FACTORY_NO_CACHE", raising=False)
    made: list[dict] = []
    scan = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: made.append(kw) or scan(**kw))
    return made


def test_a_second_start_reads_the_installed_plugins_from_the_cache(scans):
    assert passes.installed_plugins() == passes.installed_plugins() == [EXAMPLE]
    assert scans == [{"group": "agent_factory"}]


def test_installing_or_removing_a_package_scans_again(scans, tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    passes.installed_plugins()
    (site / "new_package-1.0.dist-info").mkdir()  # changes the folder's modification time
    os.utime(site, ns=(0, os.stat(site).st_mtime_ns + 1))
    assert passes.installed_plugins() == [EXAMPLE]
    assert len(scans) == 2


def test_a_damaged_cache_file_scans_again(scans, tmp_path):
    passes.installed_plugins()
    [cached] = (tmp_path / "cache" / "agent-factory" / "plugins").iterdir()
    cached.write_text('[["example"]]', encoding="utf-8")
    assert passes.installed_plugins() == [EXAMPLE]
    assert len(scans) == 2


def test_the_manager_registers_the_installed_plugin_under_its_entry_point_name(scans):
    import af_example_plugin

    assert passes.PassManager().pm.get_plugin("example") is af_example_plugin


def test_an_egg_info_rewritten_in_place_scans_again(scans, tmp_path, monkeypatch):
    # setuptools' develop mode (`pip install -e` of an older project) rewrites entry_points.txt
    # in the project's folder, which leaves the folder's modification time as it was
    project = tmp_path / "project"
    (project / "dev_plugin.egg-info").mkdir(parents=True)
    entry_points = project / "dev_plugin.egg-info" / "entry_points.txt"
    entry_points.write_text("[agent_factory]\nold = dev_plugin\n", encoding="utf-8")
    monkeypatch.setattr(sys, "path", [*sys.path, str(project)])
    assert sorted(passes.installed_plugins()) == [EXAMPLE, ("old", "dev_plugin", "")]
    folder_time = os.stat(project).st_mtime_ns
    entry_points.write_text("[agent_factory]\nrenamed = dev_plugin:hooks\n", encoding="utf-8")
    os.utime(entry_points, ns=(0, os.stat(entry_points).st_mtime_ns + 1))
    assert os.stat(project).st_mtime_ns == folder_time
    assert sorted(passes.installed_plugins()) == [EXAMPLE, ("renamed", "dev_plugin", "hooks")]
    assert len(scans) == 2
