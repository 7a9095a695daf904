"""Interactive consultations through a real pseudo-terminal, running the installed
console script as a person would."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

SCRIPT = Path(sys.executable).with_name("diagnose")
if not SCRIPT.exists():  # pragma: no cover - an unusual layout: fall back to PATH
    SCRIPT = Path(shutil.which("diagnose") or "diagnose")


@pytest.fixture
def terminal(tmp_path):
    """Start ``diagnose ARGS`` on a pseudo-terminal; sessions are saved under tmp_path."""
    children: list[pexpect.spawn] = []
    env = {
        "PATH": str(SCRIPT.parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DIAGNOSE_STATE_DIR": str(tmp_path / "state"),
        "NO_COLOR": "1",
        "TERM": "xterm",
        "COLUMNS": "200",
        "LANG": "C.UTF-8",
    }

    def start(*args: str, stdout_to: Path | None = None) -> pexpect.spawn:
        """``stdout_to``: redirect stdout to that file; stdin and stderr stay on the pty."""
        command, argv = str(SCRIPT), list(args)
        if stdout_to is not None:
            line = shlex.join([command, *argv]) + " > " + shlex.quote(str(stdout_to))
            command, argv = "/bin/sh", ["-c", line]
        child = pexpect.spawn(
            command,
            argv,
            env=env,
            encoding="utf-8",
            timeout=20,
            dimensions=(50, 200),
            cwd=str(tmp_path),
        )
        children.append(child)
        return child

    yield start
    for child in children:
        child.close(force=True)


def ask(child: pexpect.spawn, answer: str, expect: str = "> ") -> None:
    child.expect_exact(expect)
    child.sendline(answer)


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_consultation_to_a_resolution(terminal):
    child = terminal("run")
    child.expect_exact("1. What are you trying to do?")
    child.expect_exact("1) Sign in to my account")
    ask(child, "1")
    child.expect_exact("2. What stops you from signing in?")
    ask(child, "1")
    child.expect_exact("Recovering a forgotten password")
    child.expect_exact('Choose "Recover password"')
    child.expect_exact("Did this solve it?")
    ask(child, "yes")
    child.expect_exact("Type explain")
    ask(child, "")
    assert finish(child) == 0


def test_help_why_back_and_unknown(terminal):
    child = terminal("run")
    child.expect_exact("1. What are you trying to do?")
    ask(child, "why")
    child.expect_exact("Your goal decides which part of the service the problem is in.")
    child.expect_exact("lost-2fa: Only support can disable two-factor authentication")
    ask(child, "?")
    child.expect_exact("Legal answers: 1=sign-in, 2=register")
    ask(child, "9")
    child.expect_exact("'9' is not an answer to 'goal'; legal values: sign-in")
    ask(child, "1")
    child.expect_exact("2. What stops you from signing in?")
    ask(child, "back")
    # The previous question again, as question 1: the first answer is forgotten.
    child.expect_exact("1. What are you trying to do?")
    ask(child, "resources")
    child.expect_exact("2. What is the problem with your resources?")
    ask(child, "unknown")
    # Nothing matches: the escalation to support, with the ticket asked for now.
    child.expect_exact("Which login")
    ask(child, "ann@example.com")
    child.expect_exact("What is the name of the project")
    ask(child, "")  # skipped
    child.expect_exact("Describe the problem")
    ask(child, "The console says my quota is exceeded.")
    child.sendline("It started today.")
    child.sendline("")
    child.expect_exact("Ask support directly")
    child.expect_exact("Login: ann@example.com")
    child.expect_exact("Project: (not given)")
    child.expect_exact("Save the ticket draft to a file?")
    ask(child, "")
    child.expect_exact("Type explain")
    ask(child, "explain")
    child.expect_exact("Why not the others")
    child.expect_exact(
        "quota-increase (rule quota-limit): ruled out: needs answer to resources-problem is quota, but it is unknown"
    )
    assert finish(child) == 0


def test_ctrl_c_saves_and_resume_reaches_the_same_recommendation(terminal, tmp_path):
    child = terminal("run", "--format", "json")
    ask(child, "3")  # manage-account
    child.expect_exact("2. What do you want to do with your account?")
    child.expect_exact("> ")
    child.sendintr()
    child.expect(r"saved in (\S+\.json); continue with: diagnose run --resume (\S+\.json)")
    saved = child.match.group(1)
    assert child.match.group(2) == saved
    assert finish(child) == 130
    assert json.loads(Path(saved).read_text())["answers"] == {"goal": "manage-account"}

    resumed = terminal("run", "--resume", saved, "--format", "json")
    resumed.expect_exact("What do you want to do with your account?")
    ask(resumed, "2")  # delete
    ask(resumed, "ann@example.com", expect="> ")
    ask(resumed, "", expect="> ")
    ask(resumed, "", expect="> ")
    ask(resumed, "", expect="Save the ticket draft")
    resumed.expect(pexpect.EOF)
    output = resumed.before
    resumed.close()
    assert resumed.exitstatus == 0
    live = json.loads(output[output.index("{") :])

    uninterrupted = subprocess.run(
        [
            str(SCRIPT),
            "run",
            "--no-input",
            "--format",
            "json",
            "-a",
            "goal=manage-account",
            "-a",
            "account-change=delete",
            "-a",
            "login=ann@example.com",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert live == json.loads(uninterrupted.stdout)


def test_end_of_input_saves_what_was_typed(terminal):
    child = terminal("run")
    ask(child, "2")  # register
    child.expect_exact("> ")
    child.sendeof()
    child.expect(
        r"Input ended before the consultation finished\. Your answers are saved in (\S+\.json)"
    )
    saved = Path(child.match.group(1))
    assert finish(child) == 2
    assert json.loads(saved.read_text())["answers"] == {"goal": "register"}


def test_interrupted_description_keeps_the_lines_typed(terminal):
    child = terminal("run", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa")
    child.expect_exact("Which login")
    ask(child, "ann@example.com")
    ask(child, "prod")
    child.expect_exact("Describe the problem")
    ask(child, "I lost my phone yesterday.")
    child.expect_exact("  ")
    child.sendintr()
    child.expect(r"saved in (\S+\.json)")
    saved = json.loads(Path(child.match.group(1)).read_text())
    assert finish(child) == 130
    assert saved["ticket"] == {
        "login": "ann@example.com",
        "project": "prod",
        "description": "I lost my phone yesterday.",
    }
    assert saved["answers"] == {"goal": "sign-in", "sign-in-problem": "lost-2fa"}


def test_ticket_saved_and_secret_refused(terminal, tmp_path):
    child = terminal("run", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa")
    child.expect_exact("Which login")
    ask(child, "ann@example.com")
    ask(child, "prod")
    child.expect_exact("Describe the problem")
    ask(child, "123 456")
    child.sendline("")
    child.expect_exact("That looks like a one-time code; diagnose never stores one")
    ask(child, "my password is hunter2")
    child.sendline("")
    child.expect_exact("That text seems to contain a password")
    ask(child, "I lost the phone with my authenticator app.")
    child.sendline("")
    child.expect_exact("Save the ticket draft to a file?")
    ask(child, "ticket.md")
    child.expect_exact("Ticket draft written to ticket.md.")
    ask(child, "")
    assert finish(child) == 0
    text = (tmp_path / "ticket.md").read_text()
    assert "**Login:** ann@example.com" in text and "**Project:** prod" in text
    assert "I lost the phone with my authenticator app." in text
    assert "123 456" not in text and "hunter2" not in text


def test_resolution_that_did_not_help_escalates(terminal):
    child = terminal(
        "run", "-a", "goal=sign-in", "-a", "sign-in-problem=forgot-password", "--format", "json"
    )
    child.expect_exact("Did this solve it?")
    ask(child, "no")
    for _ in range(3):
        ask(child, "")
    ask(child, "", expect="Save the ticket draft")
    child.expect(pexpect.EOF)
    data = json.loads(child.before[child.before.index("{") :])
    child.close()
    assert data["article"] == "not-found"
    assert data["ticket"]["diagnostics"]["tried"] == "forgot-password"


def test_saved_session_replays_in_ci(terminal, tmp_path):
    child = terminal("run")
    ask(child, "5")  # contact-support
    child.expect_exact("2. What do you need")
    child.expect_exact("> ")
    child.sendintr()
    child.expect(r"saved in (\S+\.json)")
    saved = child.match.group(1)
    finish(child)
    # Replaying needs the rest: it names the missing question, never prompts.
    replay = subprocess.run(
        [str(SCRIPT), "run", "--answers", saved, "--no-input"], capture_output=True, text=True
    )
    assert replay.returncode == 2 and "'support-need' needs an answer" in replay.stderr
    replay = subprocess.run(
        [
            str(SCRIPT),
            "run",
            "--answers",
            saved,
            "-a",
            "support-need=channels",
            "--no-input",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert replay.returncode == 0 and json.loads(replay.stdout)["article"] == "contact-support"
    assert re.search(r"session-\d{8}-\d{6}-\d+\.json$", saved)


def test_recorded_consultation_replays_with_the_same_json(terminal, tmp_path):
    child = terminal("run", "--format", "json", "--save", "recorded.json")
    ask(child, "2")  # register
    ask(child, "1")  # phone-rejected
    child.expect_exact("Which phone number")
    ask(child, "+44 20 7946 0958")
    # The live check says what it checks, then its result in words.
    child.expect_exact(
        "Checking the phone number's country code (+7 can be registered): +44 20 7946 0958"
    )
    child.expect_exact("The number has the +44 country code (region GB)")
    child.expect(pexpect.EOF)
    live = json.loads(child.before[child.before.index("{") :])
    child.close()
    assert child.exitstatus == 1  # the live check found a problem

    replay = subprocess.run(
        [
            str(SCRIPT),
            "run",
            "--answers",
            str(tmp_path / "recorded.json"),
            "--no-input",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert replay.returncode == 1
    assert json.loads(replay.stdout) == live


def test_back_after_resume_changes_a_saved_answer(terminal):
    child = terminal("run")
    ask(child, "4")  # resources
    child.expect_exact("2. What is the problem with your resources?")
    child.expect_exact("> ")
    child.sendintr()
    child.expect(r"saved in (\S+\.json)")
    saved = child.match.group(1)
    finish(child)
    resumed = terminal("run", "--resume", saved)
    resumed.expect_exact("2. What is the problem with your resources?")
    ask(resumed, "back")
    resumed.expect_exact("1. What are you trying to do?")
    ask(resumed, "sign-in")
    resumed.expect_exact("2. What stops you from signing in?")
    ask(resumed, "quit")
    resumed.expect_exact("Stopped before the consultation finished.")
    assert finish(resumed) == 130


def test_live_check_says_what_it_checks_and_spins_when_slow(terminal):
    from conftest import ZONES
    from dnsserver import DnsServer

    # 0.8 s per DNS answer: longer than the half second after which the spinner shows.
    with DnsServer(ZONES, delay=0.8) as server:
        child = terminal("run", "--nameserver", server.address, "--timeout", "5")
        ask(child, "contact-support")
        ask(child, "letters-missing")
        child.expect_exact("At which email address")
        ask(child, "ann@nullmx.lab")
        child.expect_exact("Checking the email address's syntax: ann@nullmx.lab ...")
        child.expect_exact("✓ ann@nullmx.lab is a valid email address.")
        child.expect_exact(
            "Checking whether the mail domain can receive mail (MX, SPF, DMARC): ann@nullmx.lab ..."
        )
        child.expect_exact("working")  # the spinner's label
        child.expect_exact("✗ nullmx.lab cannot receive mail: its MX record is a null MX")
        child.expect_exact("Your mail domain cannot receive mail as it is set up")
        child.expect_exact("Did this solve it?")
        ask(child, "yes")
        ask(child, "")
        assert finish(child) == 1


def test_json_mode_keeps_the_conversation_off_stdout(terminal, tmp_path):
    # stdout to a file, stdin and stderr on the terminal: the file must be pure JSON.
    out = tmp_path / "out.json"
    child = terminal("run", "--format", "json", stdout_to=out)
    ask(child, "1")
    child.expect_exact("2. What stops you from signing in?")
    ask(child, "1")
    child.expect_exact("Did this solve it?")
    ask(child, "yes")
    assert finish(child) == 0
    assert json.loads(out.read_text())["article"] == "forgot-password"


def test_text_output_to_a_file_keeps_the_questions_on_the_terminal(terminal, tmp_path):
    out = tmp_path / "out.txt"
    child = terminal("run", stdout_to=out)
    child.expect_exact("1. What are you trying to do?")
    ask(child, "5")
    ask(child, "channels")
    child.expect_exact("Type explain")
    ask(child, "")
    assert finish(child) == 0
    text = out.read_text()
    assert "How to contact support" in text and "What are you trying to do?" not in text
