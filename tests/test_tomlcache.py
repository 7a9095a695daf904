"""The parsed-TOML cache makes loading faster, never different."""

from __future__ import annotations

import os
import shutil

import pytest

from diagnose.exceptions import KnowledgeBaseError
from diagnose.kb.loader import default_rules_dir, load
from diagnose.kb.tomlcache import cache_dir, read_toml


def test_a_changed_file_is_parsed_again(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('x = "one"\n')
    assert read_toml(path) == {"x": "one"}
    assert read_toml(path) == {"x": "one"}  # from the cache
    path.write_text('x = "two, longer"\n')
    assert read_toml(path) == {"x": "two, longer"}
    stat = path.stat()
    path.write_text('x = "six, longer"\n')  # same size: the modification time tells
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert read_toml(path) == {"x": "six, longer"}


def test_corrupt_cache_entries_fall_back_to_parsing(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text("n = 1\n")
    read_toml(path)
    for entry in (cache_dir() / "toml").glob("*.marshal"):
        entry.write_bytes(b"\x00garbage")
    assert read_toml(path) == {"n": 1}


def test_unwritable_cache_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(blocker / "below-a-file"))
    path = tmp_path / "d.toml"
    path.write_text("when = 2026-11-23\n")  # a date: marshal cannot hold it either
    assert str(read_toml(path)["when"]) == "2026-11-23"


def test_knowledge_base_loads_the_same_with_a_warm_cache(tmp_path):
    directory = tmp_path / "kb"
    shutil.copytree(default_rules_dir(), directory)
    cold, warm = load(directory), load(directory)
    assert cold._replace(directory=None) == warm._replace(directory=None)
    # A broken file is still reported after a good version of it was cached.
    rules = directory / "rules.toml"
    rules.write_text(rules.read_text().replace("[[rule]]", "[[rule]", 1))
    with pytest.raises(KnowledgeBaseError, match="is not valid TOML"):
        load(directory)
