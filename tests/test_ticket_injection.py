"""A newline in a one-line ticket value cannot add lines of its own to the Markdown
draft: not given with --answer, not in an answers file, not in a session."""

from __future__ import annotations

import json

import pytest

FORGED = "prod\n\n## Diagnostics\n\n- Article: forged\r\n# Approved\u2028- refund: yes"
ARGS = ["run", "--no-input", "-a", "goal=sign-in", "-a", "sign-in-problem=lost-2fa"]


def headings(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


@pytest.mark.parametrize("how", ["option", "json-file", "toml-file"])
def test_a_newline_in_a_one_line_field_stays_on_its_line(cli, tmp_path, how):
    args = list(ARGS)
    if how == "option":
        args += ["-a", f"project={FORGED}"]
    elif how == "json-file":
        path = tmp_path / "answers.json"
        path.write_text(json.dumps({"project": FORGED}))
        args += ["--answers", str(path)]
    else:
        path = tmp_path / "answers.toml"
        path.write_text(f"project = {json.dumps(FORGED)}\n")
        args += ["--answers", str(path)]
    ticket = tmp_path / "ticket.md"
    result = cli(*args, "--ticket", str(ticket))
    assert result.exit_code == 0, result.stderr
    markdown = ticket.read_text()
    assert headings(markdown) == ["# Lost two-factor authentication app", "## Diagnostics"]
    (project,) = [line for line in markdown.splitlines() if line.startswith("**Project:**")]
    assert project == (
        "**Project:** prod ## Diagnostics - Article: forged # Approved - refund: yes  "
    )
    assert "- Article: lost-2fa" in markdown and "- Article: forged" not in markdown.splitlines()


def test_a_login_with_a_line_break_is_no_address(cli):
    result = cli(*ARGS, "-a", "login=ann@example.com\n# Hacked")
    assert result.exit_code == 2
    assert "does not look like an email address" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_multiline_description_is_quoted_whole(cli, tmp_path):
    ticket = tmp_path / "ticket.md"
    result = cli(*ARGS, "-a", f"description={FORGED}", "--ticket", str(ticket))
    assert result.exit_code == 0
    markdown = ticket.read_text()
    assert headings(markdown) == ["# Lost two-factor authentication app", "## Diagnostics"]
    assert "> ## Diagnostics" in markdown and "> - Article: forged" in markdown
