"""Shared fixtures. Tests drive the CLI through the ``cli`` fixture (in-process) or, for
interactive sessions, through a real pseudo-terminal running the installed script."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from diagnose.cli import cli as diagnose_cli


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run ``diagnose ARGS...`` in-process; returns exit code, stdout and stderr apart."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(diagnose_cli, list(args), input=input, env=env, prog_name="diagnose")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run
