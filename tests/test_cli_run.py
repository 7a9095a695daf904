"""``diagnose run`` scripted, as a CI job uses it: answers up front, JSON out, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_engine import TRUTH_TABLE

from diagnose.kb.loader import load

KB = load()


def answer_args(answers: dict[str, str]) -> list[str]:
    return [arg for key, value in answers.items() for arg in ("--answer", f"{key}={value}")]


@pytest.mark.parametrize(("answers", "article", "rule"), TRUTH_TABLE)
def test_scripted_run_reaches_every_article(cli, answers, article, rule):
    result = cli("run", "--no-input", "--format", "json", *answer_args(answers))
    data = result.json()
    assert data["article"] == article
    assert data["outcome"] == str(KB.articles[article].outcome)
    assert data["title"] == KB.articles[article].title
    assert data["steps"] and all(isinstance(step, str) for step in data["steps"])
    assert data["answers"] == answers
    assert data["evidence"]["rule"] == rule
    assert {item["article"] for item in data["considered"]} == set(KB.articles) - {article}
    assert ("ticket" in data) == (data["outcome"] == "escalation")
    # A foreign phone number is a problem a live check found: exit 1.
    failed = any(check["status"] == "fail" for check in data["checks"])
    assert result.exit_code == (1 if failed else 0), result.stderr


def test_foreign_phone_is_measured_not_asked(cli):
    result = cli(
        "run",
        "--no-input",
        "--format",
        "json",
        *answer_args(
            {
                "goal": "register",
                "register-problem": "phone-rejected",
                "registration-phone": "+1 650 253 0000",
            }
        ),
    )
    assert result.exit_code == 1
    (check,) = result.json()["checks"]
    assert check["id"] == "phone-country" and check["status"] == "fail"
    assert check["country_code"] == 1 and check["region"] == "US"


def test_russian_phone_passes_and_escalates(cli):
    result = cli(
        "run",
        "--no-input",
        "--format",
        "json",
        *answer_args(
            {
                "goal": "register",
                "register-problem": "phone-rejected",
                "registration-phone": "+7 912 345 67 89",
            }
        ),
    )
    assert result.exit_code == 0
    data = result.json()
    assert data["article"] == "not-found" and data["checks"][0]["status"] == "pass"
    assert data["ticket"]["diagnostics"]["checks"][0]["region"] == "RU"


def test_ticket_fields_given_up_front(cli):
    result = cli(
        "run",
        "--no-input",
        "--format",
        "json",
        *answer_args(
            {
                "goal": "sign-in",
                "sign-in-problem": "lost-2fa",
                "login": "ann@example.com",
                "project": "prod",
            }
        ),
    )
    ticket = result.json()["ticket"]
    assert (ticket["login"], ticket["project"], ticket["description"]) == (
        "ann@example.com",
        "prod",
        None,
    )
    assert [c["id"] for c in ticket["channels"]] == ["portal", "mail", "phone"]


def test_answers_file_json_and_toml(cli, tmp_path):
    json_file = tmp_path / "a.json"
    json_file.write_text(json.dumps({"goal": "resources", "resources-problem": "quota"}))
    toml_file = tmp_path / "a.toml"
    toml_file.write_text('goal = "resources"\nresources-problem = "bonus"\n')
    assert (
        cli("run", "--answers", str(json_file), "--format", "json").json()["article"]
        == "quota-increase"
    )
    assert (
        cli("run", "--answers", str(toml_file), "--format", "json").json()["article"]
        == "registration-bonus"
    )
    # --answer overrides the file.
    result = cli(
        "run", "--answers", str(json_file), "-a", "resources-problem=bonus", "--format", "json"
    )
    assert result.json()["article"] == "registration-bonus"


def test_text_output(cli):
    result = cli(
        "run", "--no-input", *answer_args({"goal": "sign-in", "sign-in-problem": "forgot-password"})
    )
    assert result.exit_code == 0
    assert "Recovering a forgotten password" in result.stdout
    assert "1. Open the VK Cloud login screen." in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when stdout is not a terminal


def test_explain_prints_how_and_why_not(cli):
    result = cli(
        "run", "--explain", *answer_args({"goal": "resources", "resources-problem": "quota"})
    )
    assert "How this was reached" in result.stdout
    assert (
        "answer to resources-problem is quota: you answered resources-problem = quota"
        in result.stdout
    )
    assert "Why not the others" in result.stdout
    assert "registration-bonus (rule bonus-for-project): ruled out" in result.stdout


def test_ticket_file_markdown_and_json(cli, tmp_path):
    answers = answer_args(
        {"goal": "manage-account", "account-change": "delete", "login": "ann@example.com"}
    )
    md = tmp_path / "t.md"
    assert cli("run", *answers, "--ticket", str(md)).exit_code == 0
    text = md.read_text()
    assert text.startswith("# Deleting an account") and "**Login:** ann@example.com" in text
    assert "- account-change: delete" in text
    js = tmp_path / "t.json"
    cli("run", *answers, "--ticket", str(js))
    assert json.loads(js.read_text())["diagnostics"]["article"] == "delete-account"


def test_escalation_text_shows_channels_and_mailto(cli):
    result = cli("run", *answer_args({"goal": "manage-account", "account-change": "change-phone"}))
    assert "Support portal: https://support.mcs.mail.ru (around the clock)" in result.stdout
    assert "mailto:support@mcs.mail.ru?subject=Changing%20the%20phone%20number" in result.stdout


# --- bad input: one line on stderr, exit 2, never a traceback -------------------------

BAD_INPUT = [
    (["-a", "gaol=sign-in"], "There is no question 'gaol'; known questions: goal,"),
    (
        ["-a", "goal=signin"],
        "'signin' is not an answer to 'goal'; legal values: sign-in, register,",
    ),
    (["-a", "goal"], "'goal' is not of the form ID=VALUE"),
    (
        [
            "-a",
            "goal=register",
            "-a",
            "register-problem=phone-rejected",
            "-a",
            "registration-phone=12345",
        ],
        "'12345' is not in international format",
    ),
    (
        ["-a", "goal=sign-in"],
        "The question 'sign-in-problem' needs an answer: give --answer sign-in-problem=VALUE (forgot-password, lost-2fa, other, unknown).",
    ),
    ([], "The question 'goal' needs an answer"),
    (
        ["--answers", "/nonexistent/answers.json"],
        "Cannot read the answers file /nonexistent/answers.json: No such file or directory.",
    ),
    (["--nameserver", "not a server:99999"], "nameserver"),
    (["-a", "goal=other", "-a", "description=482913"], "That looks like a one-time code"),
    (
        ["-a", "goal=other", "-a", "description=my password is hunter2"],
        "seems to contain a password",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input(cli, args, message):
    result = cli("run", "--no-input", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("diagnose: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", "{not json", "is not valid JSON"),
        ("a.toml", "goal = ", "is not valid TOML"),
        ("a.json", "[1, 2]", "must hold an object of question ids to answers"),
        ("a.json", '{"goal": ["sign-in"]}', "gives 'goal' a value that is not text"),
        ("a.txt", "\x00\x01", "is neither valid JSON nor valid TOML"),
    ],
)
def test_broken_answers_file(cli, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    result = cli("run", "--answers", str(path))
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_stdin_not_a_terminal_never_blocks():
    # No --no-input, stdin is a pipe that stays open: it must not wait for input.
    process = subprocess.run(
        [sys.executable, "-m", "diagnose", "run"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2
    assert "The question 'goal' needs an answer" in process.stderr


def test_articles_and_questions_lists(cli):
    articles = cli("articles", "--format", "json").json()
    assert articles[0] == {
        "id": "contact-support",
        "title": "How to contact support",
        "outcome": "information",
    }
    assert len(articles) == 11
    questions = {q["id"]: q for q in cli("questions", "--format", "json").json()}
    assert [c["id"] for c in questions["goal"]["choices"]][:2] == ["sign-in", "register"]
    assert questions["registration-phone"]["type"] == "phone"
    assert questions["description"]["type"] == "ticket"
    text = cli("questions").stdout
    assert "goal (choice): What are you trying to do?" in text


def test_version_and_help_do_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from diagnose.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('experta', 'dns', 'email_validator', 'rich', 'phonenumbers') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("[]")


def test_the_draft_and_the_findings_carry_no_trailing_blanks(cli):
    # rich pads grid rows to the full width; a draft copied into a mail must not.
    result = cli(
        "run",
        "--no-input",
        *("-a", "goal=resources", "-a", "resources-problem=quota", "-a", "login=a@b.c"),
        *("-a", "quota-resource=vCPU", "-a", "quota-amount=64", "-a", "quota-region=msk"),
        *("-a", "description=We need more."),
    )
    assert result.exit_code == 0, result.stderr
    assert "Quota needed:" in result.stdout and "64" in result.stdout
    assert [line for line in result.stdout.splitlines() if line != line.rstrip()] == []
