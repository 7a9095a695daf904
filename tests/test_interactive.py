"""Interactive consultations through a real pseudo-terminal, running the installed
console script as a person would."""

from __future__ import annotations

import io
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

    def start(
        *args: str, stdout_to: Path | None = None, columns: int = 200, **extra_env: str
    ) -> pexpect.spawn:
        """``stdout_to``: redirect stdout to that file; stdin and stderr stay on the pty."""
        command, argv = str(SCRIPT), list(args)
        if stdout_to is not None:
            line = shlex.join([command, *argv]) + " > " + shlex.quote(str(stdout_to))
            command, argv = "/bin/sh", ["-c", line]
        child = pexpect.spawn(
            command,
            argv,
            env={**env, "COLUMNS": str(columns), **extra_env},
            encoding="utf-8",
            timeout=20,
            dimensions=(50, columns),
            cwd=str(tmp_path),
        )
        child.logfile_read = io.StringIO()  # the whole transcript, for assertions over it
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


def transcript(child: pexpect.spawn) -> str:
    return child.logfile_read.getvalue().replace("\r", "")


def session(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def json_after(text: str) -> dict:
    return json.loads(text[text.index("{") :])


# --- questions ------------------------------------------------------------------------


def test_consultation_to_a_resolution(terminal):
    child = terminal("run")
    child.expect_exact("1. What are you trying to do?")
    child.expect_exact("1) Sign in to my account")
    ask(child, "1")
    child.expect_exact("2. What stops you from signing in?")
    ask(child, "1")
    child.expect_exact("Recovering a forgotten password")
    child.expect_exact('Choose "Recover password"')
    child.expect_exact("Did this solve it? (yes / no)")
    ask(child, "yes")
    child.expect_exact("Type explain")
    ask(child, "")
    assert finish(child) == 0


def test_help_why_back_and_unknown_at_questions(terminal):
    child = terminal("run")
    child.expect_exact("1. What are you trying to do?")
    ask(child, "why")
    child.expect_exact("Your goal decides which part of the service the problem is in.")
    child.expect_exact("Lost two-factor authentication app")
    ask(child, "?")
    child.expect_exact("Answer with a number: 1) Sign in to my account")
    ask(child, "back")
    child.expect_exact("There is no earlier answer to change.")
    ask(child, "9")
    child.expect_exact("'9' is not one of the answers.")
    child.expect_exact("Type a number from 1 to 6")
    ask(child, "")  # Enter alone: what to type, in words, without the answers' ids
    child.expect_exact("Please choose an answer.")
    assert "legal values" not in child.before and "contact-support" not in child.before
    child.expect_exact("Type a number from 1 to 6")
    ask(child, "1")
    child.expect_exact("2. What stops you from signing in?")
    ask(child, "back")
    # The previous question again, as question 1: the first answer is forgotten.
    child.expect_exact("1. What are you trying to do?")
    ask(child, "resources")
    child.expect_exact("2. What is the problem with your resources?")
    ask(child, "unknown")
    child.expect_exact("Ask support directly")  # nothing matches: support, with a ticket
    child.expect_exact("Which login")
    child.expect_exact("> ")
    child.sendintr()
    assert finish(child) == 0  # the recommendation (no live check) was on the screen


def test_line_editing_at_prompts(terminal):
    child = terminal("run")
    child.expect_exact("1. What are you trying to do?")
    child.expect_exact("> ")
    # Ctrl-A (start of line) works only with readline's line editing.
    child.send("ign-in\x01s\r")
    child.expect_exact("2. What stops you from signing in?")
    child.sendintr()
    assert finish(child) == 130


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_text_wraps_at_word_boundaries_with_hanging_indents(terminal, columns):
    child = terminal("run", columns=columns)
    ask(child, "why")
    ask(child, "?")
    child.expect_exact("You can also type")
    ask(child, "4")
    ask(child, "1")  # quota: the article and the ticket prompts
    child.expect_exact("(1/6)")
    child.expect_exact("> ")
    child.sendintr()
    finish(child)
    text = transcript(child)
    for line in text.split("\n"):
        # A file's path is one word that cannot be broken; every other line fits.
        assert len(line) <= columns or "/" in line, line
    # Words are never broken: each word of the help and why texts appears whole.
    for word in ("two-factor", "authentication", "registration", "Something", "resources"):
        assert word in text
    # A wrapped paragraph continues under its own text, not at the margin.
    assert "\n  " in text


def test_no_internal_jargon_unless_explain(terminal):
    child = terminal("run", "-a", "goal=sign-in", "-a", "sign-in-problem=forgot-password")
    child.expect_exact("Did this solve it?")
    shown = child.before
    ask(child, "?")
    child.expect_exact("Answer yes or no")
    ask(child, "yes")
    ask(child, "", expect="Type explain")
    assert finish(child) == 0
    for jargon in ("resolution", "forgotten-password", "forgot-password", "Legal answers", "rule"):
        assert jargon not in shown


# --- ticket fields ----------------------------------------------------------------------


def test_words_at_ticket_prompts_are_obeyed_never_stored(terminal, tmp_path):
    child = terminal("run", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa")
    child.expect_exact("Which login")
    ask(child, "why")
    child.expect_exact("Support needs this to act on your request without writing back")
    ask(child, "?")
    child.expect_exact("Do not type your password.")
    child.expect_exact("Enter skips this field")
    ask(child, "ann@example.com")
    child.expect_exact("What is the name of the project")
    ask(child, "back")
    child.expect_exact("Which login")  # the login again, to change
    ask(child, "ann@example.com")
    child.expect_exact("What is the name of the project")
    ask(child, "help")
    ask(child, "unknown")  # skips it
    child.expect_exact("What happened to your two-factor authentication?")
    ask(child, "1")
    child.expect_exact("Describe the problem")
    ask(child, "back")
    child.expect_exact("What happened to your two-factor authentication?")
    ask(child, "2")
    child.expect_exact("Describe the problem")
    ask(child, "The app was wiped by a phone reset.")
    child.sendline(".")
    child.expect_exact("Is the draft right?")
    ask(child, "")
    ask(child, "ticket.md", expect="Save the ticket draft")
    ask(child, "", expect="Type explain")
    assert finish(child) == 0
    text = (tmp_path / "ticket.md").read_text()
    assert "**Login:** ann@example.com" in text
    assert "**Project:** (not given)" in text
    assert "**What was lost:** I still have the phone, but the app was reset" in text
    assert "The app was wiped by a phone reset." in text
    for word in ("why", "help", "back", "unknown", ": ?"):
        assert f"** {word}" not in text and f"> {word}\n" not in text


def test_quit_at_a_ticket_prompt_saves_and_resume_asks_nothing_twice(terminal):
    child = terminal("run", "-a", "goal=resources", "-a", "resources-problem=quota")
    child.expect_exact("Which login")
    ask(child, "ann@example.com")
    ask(child, "")  # project skipped
    child.expect_exact("Which resource's quota")
    ask(child, "quit")
    child.expect(
        r"saved\s+in\s+(\S+\.json);\s+continue\s+with:\s+diagnose\s+run\s+--resume\s+(\S+\.json)"
    )
    saved = child.match.group(1)
    # The recommendation was on the screen (no live check): its exit code, not 130.
    assert "before the consultation finished" not in child.before
    assert finish(child) == 0
    entries = session(saved)["entries"]
    assert ["ticket", "project", None] in entries  # skipped, and remembered as skipped

    resumed = terminal("run", "--resume", saved)
    resumed.expect_exact("Which resource's quota")  # not the login, not the project
    assert "Which login" not in resumed.before and "name of the project" not in resumed.before
    ask(resumed, "quit")
    resumed.expect(r"saved\s+in\s+(\S+\.json)")
    assert resumed.match.group(1) == saved  # one session file per consultation
    finish(resumed)


def test_pasted_description_with_blank_lines_stays_whole(terminal, tmp_path):
    child = terminal(
        "run",
        "-a",
        "goal=contact-support",
        "-a",
        "support-need=other",
        "-a",
        "login=ann@example.com",
        "-a",
        "project=prod",
    )
    child.expect_exact("Describe the problem")
    child.expect_exact("end with a line holding only a dot")
    child.expect_exact("> ")
    child.send("First paragraph.\r\rSecond paragraph,\rstill the second.\r\rThird.\r.\r")
    child.expect_exact("Is the draft right?")
    ask(child, "")
    ask(child, "draft.json", expect="Save the ticket draft")
    ask(child, "", expect="Type explain")
    assert finish(child) == 0
    ticket = json.loads((tmp_path / "draft.json").read_text())
    assert ticket["description"] == (
        "First paragraph.\n\nSecond paragraph,\nstill the second.\n\nThird."
    )
    assert not list(tmp_path.glob("Second*")) and not list(tmp_path.glob("Third*"))


def test_ctrl_d_ends_a_description(terminal, tmp_path):
    child = terminal(
        "run",
        "-a",
        "goal=other",
        "-a",
        "login=ann@example.com",
        "-a",
        "project=prod",
        "--ticket",
        "out.md",
    )
    child.expect_exact("Describe the problem")
    ask(child, "One line.")
    child.sendline("Two lines.")
    child.sendeof()
    child.expect_exact("Is the draft right?")
    ask(child, "")
    ask(child, "", expect="Type explain")
    assert finish(child) == 0
    assert "> One line.\n> Two lines." in (tmp_path / "out.md").read_text()


def test_edit_opens_the_editor_for_the_description(terminal, tmp_path):
    editor = tmp_path / "editor.sh"
    editor.write_text(
        '#!/bin/sh\nprintf "Written in the editor.\\n\\nWith a blank line.\\n" > "$1"\n'
    )
    editor.chmod(0o755)
    child = terminal(
        "run",
        "-a",
        "goal=other",
        "-a",
        "login=ann@example.com",
        "-a",
        "project=prod",
        "--ticket",
        "out.json",
        EDITOR=str(editor),
        VISUAL=str(editor),
    )
    child.expect_exact("Describe the problem")
    ask(child, "edit")
    child.expect_exact("Is the draft right?")
    ask(child, "")
    ask(child, "", expect="Type explain")
    assert finish(child) == 0
    ticket = json.loads((tmp_path / "out.json").read_text())
    assert ticket["description"] == "Written in the editor.\n\nWith a blank line."


def test_escalation_shows_the_article_first_and_the_draft_can_be_changed(terminal, tmp_path):
    child = terminal("run", "-a", "goal=manage-account", "-a", "account-change=delete")
    child.expect_exact("Delete every resource in your projects first.")
    child.expect_exact("Support needs a few details")
    child.expect_exact("Which login")
    ask(child, "not-an-address")
    child.expect_exact("does not look like an email address")
    ask(child, "ann@example.com")
    ask(child, "2024")  # a project named 2024 is a name, not a one-time code
    child.expect_exact("Have you deleted every resource")
    ask(child, "maybe")
    child.expect_exact("'maybe' is not yes or no.")
    ask(child, "yes")
    child.expect_exact("Have you unlinked your payment card")
    ask(child, "no")
    child.expect_exact("Describe the problem")
    ask(child, ".")
    child.expect_exact("4) Payment card unlinked:")
    child.expect_exact("Is the draft right?")
    ask(child, "4")
    child.expect_exact("[now: no]")
    ask(child, "yes")
    child.expect_exact("Is the draft right?")
    ask(child, "")
    ask(child, "delete.md", expect="Save the ticket draft")
    ask(child, "", expect="Type explain")
    assert finish(child) == 0
    text = (tmp_path / "delete.md").read_text()
    assert "**Project:** 2024" in text
    assert "**Every resource deleted:** yes" in text and "**Payment card unlinked:** yes" in text


def test_login_defaults_to_the_address_given_earlier(terminal):
    child = terminal(
        "run",
        "-a",
        "goal=contact-support",
        "-a",
        "support-need=letters-missing",
        "-a",
        "support-email=unknown",
        "--format",
        "json",
    )
    child.expect_exact("Did this solve it?")
    ask(child, "no")
    child.expect_exact("Which login")
    child.expect_exact("Enter skips")
    child.expect_exact("> ")
    child.sendintr()
    finish(child)

    child = terminal(
        "run",
        "-a",
        "goal=sign-in",
        "-a",
        "sign-in-problem=lost-2fa",
        "-a",
        "support-email=ann@example.com",
        "--format",
        "json",
    )
    child.expect_exact("Which login")
    child.expect_exact("[Enter keeps ann@example.com]")
    ask(child, "")
    ask(child, "")
    ask(child, "")
    ask(child, ".")
    ask(child, "", expect="Is the draft right?")
    ask(child, "", expect="Save the ticket draft")
    ask(child, "", expect="Type explain")
    child.expect(pexpect.EOF)
    child.close()
    assert json_after(child.before)["ticket"]["login"] == "ann@example.com"


def test_secrets_are_refused_at_ticket_prompts(terminal, tmp_path):
    child = terminal("run", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa")
    child.expect_exact("Which login")
    ask(child, "ann@example.com")
    ask(child, "prod")
    ask(child, "1", expect="What happened to your two-factor")
    child.expect_exact("Describe the problem")
    ask(child, "123 456")
    child.sendline(".")
    child.expect_exact("That looks like a one-time code; diagnose never stores one")
    ask(child, "my password is hunter2")
    child.sendline(".")
    child.expect_exact("That text seems to contain a password")
    ask(child, "I lost the phone with my authenticator app.")
    child.sendline(".")
    ask(child, "", expect="Is the draft right?")
    ask(child, "ticket.md", expect="Save the ticket draft")
    child.expect_exact("Ticket draft written to ticket.md.")
    ask(child, "")
    assert finish(child) == 0
    text = (tmp_path / "ticket.md").read_text()
    assert "I lost the phone with my authenticator app." in text
    assert "123 456" not in text and "hunter2" not in text
    assert not list((tmp_path / "state").glob("*")) if (tmp_path / "state").exists() else True


def test_interrupted_description_keeps_the_lines_typed_but_no_secret(terminal):
    child = terminal("run", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa")
    child.expect_exact("Which login")
    ask(child, "ann@example.com")
    ask(child, "prod")
    ask(child, "2", expect="What happened to your two-factor")
    child.expect_exact("Describe the problem")
    ask(child, "I lost my phone yesterday.")
    child.expect_exact("I lost my phone yesterday.\r\n  ")  # the next line's prompt
    child.sendintr()
    child.expect(r"saved\s+in\s+(\S+\.json)")
    saved = session(child.match.group(1))
    assert finish(child) == 0
    assert ["ticket", "description", "I lost my phone yesterday."] in saved["entries"]

    child = terminal("run", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa")
    child.expect_exact("Which login")
    ask(child, "ann@example.com")
    ask(child, "prod")
    ask(child, "2", expect="What happened to your two-factor")
    child.expect_exact("Describe the problem")
    ask(child, "It stopped working.")
    child.sendline("my password is hunter2")
    child.expect_exact("hunter2\r\n  ")  # the next line's prompt
    child.sendintr()
    child.expect_exact("so it was not saved")
    child.expect(r"saved\s+in\s+(\S+\.json)")
    path = Path(child.match.group(1))
    finish(child)
    assert "hunter2" not in path.read_text()


# --- after the article ------------------------------------------------------------------


def test_did_this_solve_it_has_no_silent_default(terminal):
    child = terminal("run", "-a", "goal=sign-in")
    ask(child, "1", expect="What stops you from signing in?")
    child.expect_exact("Did this solve it?")
    ask(child, "")
    child.expect_exact("Please answer yes or no.")
    ask(child, "?")
    child.expect_exact("Answer yes or no.")
    ask(child, "back")
    child.expect_exact("What stops you from signing in?")
    ask(child, "1")
    child.expect_exact("Did this solve it?")
    ask(child, "quit")
    child.expect(r"saved\s+in\s+(\S+\.json)")
    assert finish(child) == 0  # the article was shown: its exit code


def test_resolution_that_did_not_help_escalates_naming_it(terminal, tmp_path):
    child = terminal(
        "run",
        "-a",
        "goal=sign-in",
        "-a",
        "sign-in-problem=forgot-password",
        "--format",
        "json",
        "--ticket",
        "t.md",
    )
    child.expect_exact("Did this solve it?")
    ask(child, "no")
    child.expect_exact("Recovering a forgotten password: the steps did not help")
    child.expect_exact("Which login")
    before = child.before
    ask(child, "")
    ask(child, "")
    ask(child, ".")
    ask(child, "", expect="Is the draft right?")
    ask(child, "", expect="Type explain")
    child.expect(pexpect.EOF)
    child.close()
    assert "No FAQ entry matches" not in before
    data = json_after(child.before)
    assert data["article"] == "not-found" and data["tried"] == "forgot-password"
    assert data["ticket"]["diagnostics"]["tried"] == "forgot-password"
    assert data["ticket"]["subject"] == "Recovering a forgotten password: the steps did not help"
    assert (
        "# Recovering a forgotten password: the steps did not help"
        in (tmp_path / "t.md").read_text()
    )


@pytest.mark.parametrize(
    ("answers", "title"),
    [
        ("goal=register register-problem=bonus-missing", "Bonus points at registration"),
        ("goal=contact-support support-need=channels", "How to contact support"),
        ("goal=contact-support support-need=response-time", "How quickly support responds"),
        (
            "goal=register register-problem=phone-rejected registration-phone=+44_20_7946_0958",
            "Registering with a phone number from outside Russia",
        ),
    ],
)
def test_information_articles_ask_whether_they_answered(terminal, answers, title):
    args = [a for pair in answers.split() for a in ("-a", pair.replace("_", " "))]
    child = terminal("run", *args, "--format", "json")
    child.expect_exact(title)
    child.expect_exact("Did this answer your question?")
    ask(child, "no")
    child.expect_exact(f"{title}: the answer did not help")
    child.expect_exact("Which login")
    child.expect_exact("> ")
    child.sendintr()
    finish(child)


def test_with_stdout_redirected_the_article_is_shown_before_the_question(terminal, tmp_path):
    out = tmp_path / "out.json"
    child = terminal("run", "--format", "json", stdout_to=out)
    ask(child, "1")
    ask(child, "1", expect="2. What stops you from signing in?")
    child.expect_exact("Recovering a forgotten password")
    child.expect_exact('Choose "Recover password"')
    child.expect_exact("Did this solve it?")
    ask(child, "yes")
    ask(child, "", expect="Type explain")
    assert finish(child) == 0
    assert json.loads(out.read_text())["article"] == "forgot-password"


def test_text_output_to_a_file_keeps_the_questions_on_the_terminal(terminal, tmp_path):
    out = tmp_path / "out.txt"
    child = terminal("run", stdout_to=out)
    child.expect_exact("1. What are you trying to do?")
    ask(child, "5")
    ask(child, "channels")
    child.expect_exact("How to contact support")
    ask(child, "yes", expect="Did this answer your question?")
    ask(child, "", expect="Type explain")
    assert finish(child) == 0
    text = out.read_text()
    assert "How to contact support" in text and "What are you trying to do?" not in text


def test_ticket_option_without_an_escalation_says_so(terminal, tmp_path):
    child = terminal(
        "run", "-a", "goal=contact-support", "-a", "support-need=channels", "--ticket", "t.md"
    )
    ask(child, "yes", expect="Did this answer your question?")
    ask(child, "", expect="Type explain")
    child.expect_exact("No ticket draft was written to t.md")
    assert finish(child) == 0
    assert not (tmp_path / "t.md").exists()


# --- live checks ----------------------------------------------------------------------------


def test_kazakh_plus_seven_number_escalates_saying_so(terminal):
    child = terminal(
        "run", "-a", "goal=register", "-a", "register-problem=phone-rejected", "--format", "json"
    )
    ask(child, "+7 701 123 4567", expect="Which phone number")
    child.expect_exact("belongs to Kazakhstan, not to Russia")
    assert "can be registered" not in child.before
    child.expect_exact("Ask support whether this number can be registered")
    child.expect_exact("Which login")
    child.expect_exact("> ")
    child.sendintr()
    finish(child)


def test_a_corrected_address_after_an_invalid_one_is_understood(terminal):
    child = terminal(
        "run",
        "-a",
        "goal=contact-support",
        "-a",
        "support-need=letters-missing",
        "--format",
        "json",
    )
    ask(child, "ann@@example", expect="At which email address")
    child.expect_exact("The address you gave cannot receive mail")
    child.expect_exact("or type the corrected email")
    ask(child, "ann@example.com")
    child.expect_exact("Checking the email address's syntax: ann@example.com")
    child.expect_exact("> ")
    child.sendintr()
    finish(child)


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
        child.expect_exact("What the check of your mail domain found: nullmx.lab cannot")
        child.expect_exact("Did this solve it?")
        ask(child, "yes")
        ask(child, "")
        assert finish(child) == 1


def test_letters_missing_with_broken_spf_does_not_blame_spf(terminal, dns_server):
    # spfplus.lab receives mail (good MX); its SPF "+all" concerns mail sent from it.
    child = terminal("run", "--nameserver", dns_server.address, "--timeout", "5")
    ask(child, "contact-support")
    ask(child, "letters-missing")
    ask(child, "ann@spfplus.lab", expect="At which email address")
    child.expect_exact("! spfplus.lab can receive mail. Note: mail sent from your domain")
    child.expect_exact("What the check of your mail domain found: spfplus.lab can")
    child.expect_exact("Did this solve it?")
    ask(child, "yes")
    ask(child, "")
    assert finish(child) == 0
    text = transcript(child)
    assert "cannot receive mail" not in text
    assert "+all" in text


@pytest.mark.parametrize("how", ["ctrl-c", "SIGTERM", "SIGHUP"])
def test_stopping_during_a_live_check_saves_and_restores_the_cursor(terminal, how):
    import signal

    from conftest import ZONES
    from dnsserver import DnsServer

    with DnsServer(ZONES, fault="timeout") as server:
        child = terminal(
            "run",
            "--nameserver",
            server.address,
            "--timeout",
            "20",
            "-a",
            "goal=contact-support",
            "-a",
            "support-need=letters-missing",
        )
        ask(child, "ann@nullmx.lab", expect="At which email address")
        child.expect_exact("Checking whether the mail domain")
        child.expect_exact("working")  # the spinner hid the cursor
        if how == "ctrl-c":
            child.sendintr()
        else:
            child.kill(getattr(signal, how))
        child.expect(r"saved\s+in\s+(\S+\.json)")
        saved = session(child.match.group(1))
        assert finish(child) == 130
    text = transcript(child)
    assert "Traceback" not in text
    assert text.rfind("\x1b[?25h") > text.rfind("\x1b[?25l")  # the cursor is shown again
    assert ["answer", "support-email", "ann@nullmx.lab"] in saved["entries"]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP"])
def test_signals_at_a_prompt_save_like_ctrl_c(terminal, how):
    import signal

    child = terminal("run")
    ask(child, "3")
    child.expect_exact("2. What do you want to do with your account?")
    child.expect_exact("> ")
    child.kill(getattr(signal, how))
    child.expect(
        r"Stopped\s+before\s+the\s+consultation\s+finished\.\s+Your\s+answers\s+are\s+saved\s+in\s+(\S+\.json)"
    )
    saved = session(child.match.group(1))
    assert finish(child) == 130
    assert saved["entries"] == [["answer", "goal", "manage-account"]]


# --- sessions -------------------------------------------------------------------------------


def test_ctrl_c_saves_and_resume_reaches_the_same_recommendation(terminal, tmp_path):
    child = terminal("run", "--format", "json")
    ask(child, "3")  # manage-account
    child.expect_exact("2. What do you want to do with your account?")
    child.expect_exact("> ")
    child.sendintr()
    child.expect(
        r"saved\s+in\s+(\S+\.json);\s+continue\s+with:\s+diagnose\s+run\s+--resume\s+(\S+\.json)"
    )
    saved = child.match.group(1)
    assert child.match.group(2) == saved
    assert finish(child) == 130
    assert session(saved)["entries"] == [["answer", "goal", "manage-account"]]

    resumed = terminal("run", "--resume", saved, "--format", "json")
    resumed.expect_exact("What do you want to do with your account?")
    ask(resumed, "2")  # delete
    ask(resumed, "ann@example.com", expect="Which login")
    for _ in range(3):
        ask(resumed, "")
    ask(resumed, ".", expect="Describe the problem")
    ask(resumed, "", expect="Is the draft right?")
    ask(resumed, "", expect="Save the ticket draft")
    ask(resumed, "", expect="Type explain")
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0
    live = json_after(resumed.before)
    assert not Path(saved).exists()  # a finished consultation leaves no session behind

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
        r"Input\s+ended\s+before\s+the\s+consultation\s+finished\.\s+Your\s+answers\s+are\s+saved\s+in\s+(\S+\.json)"
    )
    saved = session(child.match.group(1))
    assert finish(child) == 2
    assert saved["entries"] == [["answer", "goal", "register"]]


def test_saved_session_replays_in_ci(terminal, tmp_path):
    child = terminal("run")
    ask(child, "5")  # contact-support
    child.expect_exact("2. What do you need")
    child.expect_exact("> ")
    child.sendintr()
    child.expect(r"saved\s+in\s+(\S+\.json)")
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
    child.expect_exact("Checking the phone number's country")
    child.expect_exact("The number has the +44 country code (region GB)")
    ask(child, "yes", expect="Did this answer your question?")
    ask(child, "", expect="Type explain")
    child.expect(pexpect.EOF)
    live = json_after(child.before)
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
    child.expect(r"saved\s+in\s+(\S+\.json)")
    saved = child.match.group(1)
    finish(child)
    resumed = terminal("run", "--resume", saved)
    resumed.expect_exact("2. What is the problem with your resources?")
    ask(resumed, "back")
    resumed.expect_exact("1. What are you trying to do?")
    ask(resumed, "sign-in")
    resumed.expect_exact("2. What stops you from signing in?")
    ask(resumed, "quit")
    resumed.expect(r"Stopped\s+before\s+the\s+consultation\s+finished\.")
    assert finish(resumed) == 130


# --- in Russian -------------------------------------------------------------------------------


def test_a_consultation_in_russian_end_to_end(terminal, tmp_path):
    # Russian chosen by the locale; answered by number, by a Russian label and by an id;
    # the prompt's words in Russian; an escalation's ticket in Russian.
    child = terminal("run", LANG="ru_RU.UTF-8")
    child.expect_exact("1. Что вы хотите сделать?")
    child.expect_exact("4) Создать или расширить облачные ресурсы в проекте")
    ask(child, "почему")
    child.expect_exact("От этого зависит, к какой части сервиса относится проблема.")
    ask(child, "?")
    child.expect_exact("Ответьте номером: 1) Войти в личный кабинет;")
    ask(child, "4")
    child.expect_exact("2. Какая проблема с ресурсами?")
    ask(child, "назад")
    child.expect_exact("1. Что вы хотите сделать?")
    ask(child, "создать или расширить облачные ресурсы в проекте")
    child.expect_exact("2. Какая проблема с ресурсами?")
    ask(child, "quota")
    child.expect_exact("Расширение квот ресурсов")
    child.expect_exact("Технической поддержке нужно несколько сведений")
    ask(child, "ann@example.com", expect="(1/6) Укажите логин аккаунта")
    ask(child, "", expect="(2/6) Как называется проект")
    ask(child, "vCPU", expect="(3/6) Для какого ресурса")
    ask(child, "64", expect="(4/6) Какая квота нужна в итоге?")
    ask(child, "Москва", expect="(5/6) В каком регионе?")
    ask(child, "Нужно ещё 32 vCPU для нового кластера.", expect="(6/6) Опишите проблему")
    ask(child, ".", expect="  ")
    child.expect_exact("Черновик обращения:")
    child.expect_exact("Всё верно в черновике?")
    ask(child, "")
    child.expect_exact("Связаться с технической поддержкой:")
    ask(child, "", expect="Сохранить черновик обращения в файл?")
    child.expect_exact("чтобы узнать, как получен этот вывод")
    ask(child, "")
    assert finish(child) == 0
    text = transcript(child)
    assert "Москва" in text and "Did this" not in text and "Type a number" not in text


def test_yes_and_no_in_russian_at_a_yes_no_prompt(terminal):
    child = terminal("--lang", "ru", "run", "-a", "goal=sign-in")
    ask(child, "1", expect="Что мешает войти в личный кабинет?")
    child.expect_exact("Это помогло решить проблему? (да / нет)")
    ask(child, "может быть")
    child.expect_exact("Ответьте «да» или «нет».")
    ask(child, "да")
    ask(child, "", expect="Введите")
    assert finish(child) == 0
