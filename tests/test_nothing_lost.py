"""Nothing typed is lost: when a session, ``--save`` or ``--ticket`` cannot be written
where it belongs, it goes to the fallback directory, or failing that to stderr.

The faults are real: a regular file where a directory should be (chmod would not stop
root, and CI runs as root), a file-size limit of 0 (``RLIMIT_FSIZE``: every write
fails as on a full disk) and a home directory that cannot exist.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pexpect
from test_interactive import SCRIPT, ask, finish, transcript

MARK = "-----8<-----"


def _full_disk() -> None:
    # Python ignores SIGXFSZ, so every write past 0 bytes fails with EFBIG.
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def spawn(tmp_path: Path, *args: str, env: dict[str, str], full_disk: bool = False):
    base = {
        "PATH": str(SCRIPT.parent) + ":/usr/bin:/bin",
        "NO_COLOR": "1",
        "TERM": "xterm",
        "COLUMNS": "200",
        "LANG": "C.UTF-8",
        "DIAGNOSE_CACHE_DIR": str(tmp_path / "cache"),
        "TMPDIR": str(tmp_path / "tmp"),
    }
    (tmp_path / "tmp").mkdir(exist_ok=True)
    child = pexpect.spawn(
        str(SCRIPT),
        list(args),
        env={**base, **env},
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 200),
        cwd=str(tmp_path),
        preexec_fn=_full_disk if full_disk else None,
    )
    child.logfile_read = io.StringIO()
    return child


def fallback(tmp_path: Path) -> Path:
    return tmp_path / "tmp" / f"diagnose-{os.geteuid()}"


def stop_at_the_second_question(child, how: str) -> None:
    ask(child, "3")  # manage-account
    child.expect_exact("2. What do you want to do with your account?")
    child.expect_exact("> ")
    if how == "ctrl-c":
        child.sendintr()
    else:
        child.sendeof()


def test_a_state_directory_that_is_a_file_saves_in_the_fallback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    child = spawn(tmp_path, "run", env={"DIAGNOSE_STATE_DIR": str(blocker / "state")})
    stop_at_the_second_question(child, "ctrl-c")
    child.expect(r"saved\s+in\s+(\S+\.json)\s+\(it\s+could\s+not\s+be\s+saved\s+in")
    saved = Path(child.match.group(1))
    assert finish(child) == 130
    assert saved.parent == fallback(tmp_path)
    assert json.loads(saved.read_text())["entries"] == [["answer", "goal", "manage-account"]]
    assert f"{blocker} is not a directory" in " ".join(transcript(child).split())
    # And it resumes from there.
    child = spawn(tmp_path, "run", "--resume", str(saved), env={})
    child.expect_exact("2. What do you want to do with your account?")
    child.close(force=True)


def test_a_home_that_cannot_exist_saves_in_the_fallback(tmp_path):
    (tmp_path / "file").write_text("")
    child = spawn(tmp_path, "run", env={"HOME": str(tmp_path / "file" / "home")})
    stop_at_the_second_question(child, "eof")
    child.expect(r"saved\s+in\s+(\S+\.json)")
    saved = Path(child.match.group(1))
    assert finish(child) == 2  # end of input: still 2
    assert saved.parent == fallback(tmp_path)
    assert json.loads(saved.read_text())["entries"] == [["answer", "goal", "manage-account"]]


def test_a_fallback_taken_by_someone_else_is_not_used(tmp_path):
    """A symlink in the fallback's place (planted by another user, say) is not followed:
    the session is printed instead."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    (tmp_path / "tmp").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fallback(tmp_path).symlink_to(elsewhere)
    child = spawn(tmp_path, "run", env={"DIAGNOSE_STATE_DIR": str(blocker / "state")})
    stop_at_the_second_question(child, "ctrl-c")
    assert finish(child) == 130
    assert list(elsewhere.iterdir()) == []
    text = transcript(child)
    assert json.loads(text.split(MARK)[1])["entries"] == [["answer", "goal", "manage-account"]]


def test_on_a_full_disk_the_session_is_printed_to_copy(tmp_path):
    child = spawn(
        tmp_path, "run", env={"DIAGNOSE_STATE_DIR": str(tmp_path / "state")}, full_disk=True
    )
    stop_at_the_second_question(child, "ctrl-c")
    child.expect_exact(MARK)
    child.expect_exact(MARK)
    printed = child.before
    assert finish(child) == 130
    text = " ".join(transcript(child).split())
    assert "File too large" in text and "copy the lines between the marks" in text
    assert "Traceback" not in text
    # What was printed is a session: copied into a file, it resumes.
    copy = tmp_path / "copy.json"
    copy.write_text(printed.replace("\r", ""))
    assert json.loads(copy.read_text())["entries"] == [["answer", "goal", "manage-account"]]
    child = spawn(tmp_path, "run", "--resume", str(copy), env={})
    child.expect_exact("2. What do you want to do with your account?")
    child.close(force=True)


def test_on_a_full_disk_end_of_input_is_still_exit_2(tmp_path):
    child = spawn(
        tmp_path, "run", env={"DIAGNOSE_STATE_DIR": str(tmp_path / "state")}, full_disk=True
    )
    stop_at_the_second_question(child, "eof")
    child.expect_exact(MARK)
    assert finish(child) == 2


SCRIPTED = ["run", "--no-input", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa"]


def scripted(
    tmp_path: Path, *args: str, full_disk: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "diagnose", *SCRIPTED, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp"), "DIAGNOSE_CACHE_DIR": str(tmp_path)},
        preexec_fn=_full_disk if full_disk else None,
        timeout=60,
    )


def test_save_and_ticket_into_a_file_path_go_to_the_fallback(tmp_path):
    (tmp_path / "tmp").mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = scripted(
        tmp_path, "--save", str(blocker / "a.json"), "--ticket", str(blocker / "t.md")
    )
    assert result.returncode == 0  # the recommendation's code: nothing was lost
    assert "Traceback" not in result.stderr
    assert (fallback(tmp_path) / "t.md").read_text().startswith("# Lost two-factor")
    answers = json.loads((fallback(tmp_path) / "a.json").read_text())
    assert answers["given"] == {"goal": "sign-in", "sign-in-problem": "lost-2fa"}
    assert f"the ticket draft could not be written to {blocker / 't.md'}" in result.stderr
    assert f"written to {fallback(tmp_path) / 't.md'} instead" in result.stderr


def test_save_and_ticket_on_a_full_disk_are_printed(tmp_path):
    (tmp_path / "tmp").mkdir()
    result = scripted(
        tmp_path,
        "--save",
        str(tmp_path / "a.json"),
        "--ticket",
        str(tmp_path / "t.md"),
        full_disk=True,
    )
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    parts = result.stderr.split(MARK)
    assert parts[1].strip().startswith("# Lost two-factor authentication app")
    assert json.loads(parts[3])["given"]["sign-in-problem"] == "lost-2fa"
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "t.md").exists()


def test_a_name_no_file_can_have_still_lands_in_the_fallback(tmp_path, monkeypatch):
    """A typed path with a NUL (Ctrl-@ at the ticket prompt) is a ValueError for the
    system, not a traceback; the text goes to the fallback under a plain name."""
    import tempfile

    from diagnose.fileio import write_anywhere

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    written, problem = write_anywhere(tmp_path / "draft\x00.md", "the draft\n")
    assert written == tmp_path / f"diagnose-{os.geteuid()}" / "unnamed"
    assert written.read_text() == "the draft\n"
    assert problem == "embedded null byte"
