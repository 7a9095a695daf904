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


def test_a_same_size_edit_with_the_time_kept_is_read_anew(tmp_path):
    """``cp -p`` and ``tar x`` keep the modification time: size and time match the
    cached entry, the content does not."""
    path = tmp_path / "a.toml"
    path.write_text('x = "one"\n')
    before = path.stat()
    assert read_toml(path) == {"x": "one"}
    path.write_text('x = "two"\n')  # the same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert read_toml(path) == {"x": "two"}


def test_a_poisoned_entry_is_not_served(tmp_path, monkeypatch):
    import marshal

    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "p.toml"
    path.write_text('article = "the real one"\n')
    assert read_toml(path) == {"article": "the real one"}
    (entry,) = (cache_dir() / "toml").glob("*.marshal")
    key, checksum, _ = marshal.loads(entry.read_bytes())
    # The right key, other data: its own checksum no longer matches.
    forged = marshal.dumps({"article": "planted"})
    entry.write_bytes(marshal.dumps((key, checksum, forged)))
    assert read_toml(path) == {"article": "the real one"}
    # The checksum recomputed too, but the data is no TOML (a code object): refused.
    from diagnose.kb.tomlcache import _digest

    code = marshal.dumps({"article": compile("1", "x", "eval")})
    entry.write_bytes(marshal.dumps((key, _digest(code), code)))
    assert read_toml(path) == {"article": "the real one"}
    # A well-formed entry that anyone may write is not trusted either.
    planted = marshal.dumps({"article": "planted"})
    entry.write_bytes(marshal.dumps((key, _digest(planted), planted)))
    entry.chmod(0o666)
    assert read_toml(path) == {"article": "the real one"}
    entry.chmod(0o600)
    entry.parent.chmod(0o777)
    try:
        assert read_toml(path) == {"article": "the real one"}
    finally:
        entry.parent.chmod(0o700)


def test_a_fifo_or_a_device_in_a_knowledge_base_is_refused_without_waiting(tmp_path):
    directory = tmp_path / "kb"
    shutil.copytree(default_rules_dir(), directory)
    os.mkfifo(directory / "zz.toml")  # nobody will ever write to it
    with pytest.raises(KnowledgeBaseError, match=r"zz\.toml: cannot be read: it is a FIFO"):
        load(directory)
    os.unlink(directory / "zz.toml")
    os.symlink("/dev/zero", directory / "zz.toml")
    with pytest.raises(KnowledgeBaseError, match="it is a device or socket, not a regular file"):
        load(directory)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "it nests too deep"),
        ("x = " + "[" * 40 + "]" * 40 + "\n", "it nests deeper than 32 levels"),
        ("x = " + "9" * 5000 + "\n", "it holds a number of more than 4,300 digits"),
        ("x = '\udcff'\n", None),
    ],
)
def test_hostile_knowledge_base_files_are_one_problem_each(tmp_path, text, reason):
    directory = tmp_path / "kb"
    shutil.copytree(default_rules_dir(), directory)
    if reason is None:
        (directory / "zz.toml").write_bytes(b"x = '\xff'\n")  # not UTF-8
        reason = "it is not UTF-8 text"
    else:
        (directory / "zz.toml").write_text(text)
    with pytest.raises(KnowledgeBaseError) as raised:
        load(directory)
    assert raised.value.problems == [f"{directory / 'zz.toml'}: is not valid TOML: {reason}."]


def test_a_byte_order_mark_is_no_problem(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbfx = "one"\n')
    assert read_toml(path) == {"x": "one"}


def test_a_file_over_the_limit_is_refused_unread(tmp_path):
    from diagnose.kb.tomlcache import MAX_BYTES

    directory = tmp_path / "kb"
    shutil.copytree(default_rules_dir(), directory)
    with (directory / "zz.toml").open("wb") as stream:
        stream.truncate(MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(KnowledgeBaseError, match="cannot be read: it is larger than 16 MiB"):
        load(directory)
