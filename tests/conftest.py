"""Shared fixtures. Tests drive the CLI through the ``cli`` fixture (in-process) or, for
interactive sessions, through a real pseudo-terminal running the installed script."""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from diagnose.cli import cli as diagnose_cli

sys.path.insert(0, str(Path(__file__).parent))  # tests/dnsserver.py, also used by bench/
from dnsserver import DnsServer


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


def walk(script: dict[str, str], lang: str | None = None) -> tuple[Any, Any, Any]:
    """A consultation on the shipped knowledge base, driven through the step machine:
    each question answered from ``script``, each ticket field skipped, up to the first
    step that is neither. Returns (conversation, state, step)."""
    from diagnose.conversation.machine import Conversation
    from diagnose.conversation.state import State
    from diagnose.conversation.steps import Ask, AskField
    from diagnose.engine import engine_for
    from diagnose.kb.loader import load

    kb = load(lang=lang)
    conversation = Conversation(kb, engine_for(kb))
    state = State()
    step = conversation.next(state)
    while isinstance(step, Ask | AskField):
        reply = script[step.question.id] if isinstance(step, Ask) else ""
        state = conversation.answer(state, step, reply)
        step = conversation.next(state)
    return conversation, state, step


def edited_kb(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the shipped knowledge base with ``old`` replaced by ``new`` in ``file``
    (the anchor must be there: a fixture that edits nothing would prove nothing)."""
    import shutil

    from diagnose.kb.loader import default_rules_dir

    target = tmp_path / "kb"
    shutil.copytree(default_rules_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    path = target / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the fixture's anchor {old!r} is not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


# -- DNS: a local server for the mail checks, and a guard against real traffic -------

ZONES = Path(__file__).parent / "zones"


def _loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths (asyncio's self-pipe) never leave the machine
    host = str(address[0]).split("%", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail any test that sends a packet anywhere but 127.0.0.0/8 or ::1.

    Tests and benchmarks must never reach /etc/resolv.conf's resolver or the internet:
    every lookup goes to the local server through an explicit --nameserver.
    """
    violations: list[object] = []

    def guard(name: str, address_of: Callable[[tuple[object, ...]], object]) -> None:
        original = getattr(socket.socket, name)

        def wrapped(self: socket.socket, *args: object) -> object:
            address = address_of(args)
            if address is not None and not _loopback(address):
                violations.append(address)
                raise PermissionError(f"A test tried to send traffic to {address!r}.")
            return original(self, *args)

        monkeypatch.setattr(socket.socket, name, wrapped)

    guard("connect", lambda args: args[0] if args else None)
    guard("connect_ex", lambda args: args[0] if args else None)
    # sendto(data, address) or sendto(data, flags, address); sendmsg(..., address)
    guard("sendto", lambda args: args[-1] if len(args) >= 2 else None)
    guard("sendmsg", lambda args: args[3] if len(args) >= 4 else None)
    yield violations
    assert not violations, f"The test sent traffic outside loopback: {violations}"


@pytest.fixture(scope="session")
def dns_server() -> Iterator[DnsServer]:
    """The zones under tests/zones, with their faults file, on 127.0.0.1 (UDP and TCP)."""
    with DnsServer(ZONES) as server:
        yield server


@pytest.fixture(scope="session")
def silent_server() -> Iterator[DnsServer]:
    """A server that receives every query and never answers."""
    with DnsServer(ZONES, fault="timeout") as server:
        yield server


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """Every test starts in English: the in-process CLI (``diagnose --lang ru``) activates
    its language for the whole process, as the real one does."""
    from diagnose import i18n

    yield
    i18n.activate("en")


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the parsed-TOML cache of the tests out of the user's ~/.cache."""
    import os

    previous = os.environ.get("DIAGNOSE_CACHE_DIR")
    os.environ["DIAGNOSE_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("DIAGNOSE_CACHE_DIR", None)
    else:
        os.environ["DIAGNOSE_CACHE_DIR"] = previous
