"""``--timeout`` takes a finite number of seconds above 0 and at most 600, on every
command that has it; anything else is one line on stderr and exit 2."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.checks.dnsquery import MIN_ATTEMPT_TIMEOUT, attempt_timeout
from diagnose.commands.options import MAX_TIMEOUT

COMMANDS = [["mail", "good.lab"], ["email", "a@good.lab"], ["run", "--no-input"]]
BAD = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999", "0", "0.0", "-0", "-1", "601",
       "600.001", "soon", "", "1,5", "0x10"]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("value", BAD)
def test_bad_timeouts_exit_2_with_one_line(cli, command, value):
    result = cli(command[0], "--timeout", value, *command[1:])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "--timeout" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["0.001", "0.3"])
def test_short_timeouts_are_taken_and_end_undetermined(cli, silent_server, value):
    result = cli("mail", "--nameserver", silent_server.address, "--timeout", value, "x.lab")
    assert result.exit_code == 3, result.stderr


@pytest.mark.parametrize("value", ["600", "6e2", " 2 ", "1.5"])
def test_long_timeouts_are_taken(cli, dns_server, value):
    result = cli("mail", "--nameserver", dns_server.address, "--timeout", value, "good.lab")
    assert result.exit_code == 0, result.stderr


@given(st.text(max_size=20))
@settings(max_examples=200, deadline=None)
def test_any_text_is_a_timeout_or_one_line_exit_2(value):
    from click.testing import CliRunner

    from diagnose.cli import cli

    # --help after the value: a valid timeout stops at the help (exit 0), no lookups
    result = CliRunner().invoke(cli, ["mail", "--timeout", value, "--help"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert len(result.stderr.splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    ("budget", "servers", "expected"),
    [(12, 1, 6.0), (5, 1, 2.5), (5, 3, 1.25), (0.5, 1, 0.5), (2, 4, MIN_ATTEMPT_TIMEOUT)],
)
def test_the_attempt_timeout_grows_with_the_budget(budget, servers, expected):
    assert attempt_timeout(budget, servers) == expected
    assert attempt_timeout(MAX_TIMEOUT, 1) == MAX_TIMEOUT / 2
