"""Input files have limits (README.md, "Limits on input files"): only regular files, a
size, a depth; hostile contents are one line and exit 2, never a hang or a traceback."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from diagnose.kb.loader import default_rules_dir

ARGS = ["run", "--no-input", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa"]

HOSTILE = {
    "deep.json": '{"goal": ' + "[" * 40 + "]" * 40 + "}",
    "deeper.json": "[" * 100_000 + "]" * 100_000,
    "digits.json": '{"goal": ' + "9" * 5000 + "}",
    "digits.toml": "goal = " + "9" * 5000 + "\n",
    "deep.toml": "goal = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "surrogate.json": '{"project": "\\ud800"}',
}


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("diagnose: error: ")
    return lines[0]


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("option", ["--answers", "--resume"])
def test_hostile_answers_files_and_sessions_are_one_line(cli, tmp_path, name, option):
    path = tmp_path / name
    path.write_text(HOSTILE[name])
    result = cli("run", "--no-input", option, str(path))
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert "Traceback" not in result.stderr
    assert str(path) in line or "not valid text" in line


@pytest.mark.parametrize("option", ["--answers", "--resume"])
def test_a_fifo_is_refused_at_once(cli, tmp_path, option):
    fifo = tmp_path / "answers.json"
    os.mkfifo(fifo)  # no writer: opening it for reading would wait for ever
    result = cli("run", "--no-input", option, str(fifo))
    assert result.exit_code == 2
    assert one_line(result.stderr).endswith("it is a FIFO, not a regular file.")


@pytest.mark.parametrize("option", ["--answers", "--resume"])
def test_a_device_is_refused(cli, option):
    result = cli("run", "--no-input", option, "/dev/zero")  # endless if it were read
    assert result.exit_code == 2
    assert one_line(result.stderr).endswith("it is a device or socket, not a regular file.")


def test_a_file_over_a_mebibyte_is_refused_unread(cli, tmp_path):
    path = tmp_path / "big.json"
    with path.open("wb") as stream:
        stream.truncate((1 << 20) + 1)
    result = cli("run", "--no-input", "--answers", str(path))
    assert result.exit_code == 2
    assert one_line(result.stderr).endswith("it is larger than 1 MiB.")


def test_a_byte_order_mark_is_accepted(cli, tmp_path):
    path = tmp_path / "answers.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"goal": "sign-in"}).encode())
    result = cli("run", "--no-input", "--answers", str(path), "-a", "sign-in-problem=lost-2fa")
    assert result.exit_code == 0, result.stderr


def test_a_session_of_a_newer_version_is_refused_with_a_sentence(cli, tmp_path):
    path = tmp_path / "session.json"
    path.write_text(json.dumps({"diagnose_session": 99, "given": {}, "entries": []}))
    result = cli("run", "--no-input", "--resume", str(path))
    assert result.exit_code == 2
    assert "a newer diagnose may have written it" in one_line(result.stderr)
    path.write_text(json.dumps({"given": {"goal": "sign-in"}}))
    result = cli("run", "--no-input", "--resume", str(path))
    assert "it has no 'diagnose_session' version" in one_line(result.stderr)


def test_scenario_files_are_bounded_too(cli, tmp_path):
    directory = tmp_path / "kb"
    shutil.copytree(default_rules_dir(), directory)
    os.mkfifo(directory / "scenarios" / "zz.toml")
    (directory / "scenarios" / "zy.toml").write_text("x = " + "9" * 5000 + "\n")
    result = cli("kb", "test", "--rules", str(directory))
    assert result.exit_code == 1  # a knowledge base's defect, as kb check reports it
    assert "Traceback" not in result.stderr
    assert "zz.toml: cannot be read (is a FIFO, not a regular file)" in result.stderr
    assert "zy.toml: is not valid TOML: it holds a number of more than 4,300 digits" in (
        result.stderr
    )


def test_a_domain_list_fifo_without_a_writer_does_not_hang(tmp_path, dns_server):
    """Domain lists are streamed (no size limit), FIFOs included; one no program
    writes to reads as empty instead of waiting for ever. A device is refused."""
    import subprocess
    import sys

    fifo = tmp_path / "domains"
    os.mkfifo(fifo)
    base = [sys.executable, "-m", "diagnose", "mail", "--nameserver", dns_server.address]
    done = subprocess.run(
        [*base, "--from-file", str(fifo)], capture_output=True, text=True, timeout=30
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = subprocess.run(
        [*base, "--from-file", "/dev/zero"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert done.stderr == (
        "diagnose: error: Cannot read the file /dev/zero: it is a device or socket, "
        "not a file or a FIFO.\n"
    )
