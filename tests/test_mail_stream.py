"""``diagnose mail --from-file -`` fed slowly through a pipe: results are printed as
soon as they are known, and a domain's time budget starts with its own lookups."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import time

DIAGNOSE = shutil.which("diagnose") or os.path.join(os.path.dirname(sys.executable), "diagnose")


def command(server) -> list[str]:
    options = ["--timeout", "1", "--format", "json", "--from-file", "-"]
    return [DIAGNOSE, "mail", "--nameserver", server.address, *options]


def read_line(process: subprocess.Popen[str], seconds: float) -> str | None:
    """One line of the child's stdout, or None when none comes within ``seconds``."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(seconds):
            return None
    return process.stdout.readline()


def test_each_result_is_printed_before_stdin_is_closed(dns_server):
    process = subprocess.Popen(
        command(dns_server),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert process.stdin is not None
    try:
        for domain in ("good.lab", "softfail.lab"):
            process.stdin.write(domain + "\n")
            process.stdin.flush()
            line = read_line(process, 5)
            assert line, f"no result for {domain} while stdin stays open"
            report = json.loads(line)
            assert report["domain"] == domain
            # Idle longer than the 1 s budget: the next domain's budget has not begun.
            assert report["status"] == "pass", report
            time.sleep(1.5)
        process.stdin.close()
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read() == ""
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_slow_domain_does_not_hold_back_reading_and_order_is_kept(dns_server):
    # mxtimeout.lab never answers: its line comes after its budget, the next right after.
    started = time.monotonic()
    process = subprocess.run(
        command(dns_server),
        input="mxtimeout.lab\ngood.lab\n",
        capture_output=True,
        text=True,
        timeout=20,
    )
    elapsed = time.monotonic() - started
    reports = [json.loads(line) for line in process.stdout.splitlines()]
    assert [r["domain"] for r in reports] == ["mxtimeout.lab", "good.lab"]
    assert [r["status"] for r in reports] == ["error", "pass"]
    assert process.returncode == 3
    assert elapsed < 4


def test_ctrl_c_while_waiting_for_input_exits_130_without_a_traceback(dns_server):
    import signal

    process = subprocess.Popen(
        command(dns_server),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert process.stdin is not None and process.stderr is not None
    try:
        # one domain answered, one never answered (still in flight), stdin still open
        process.stdin.write("good.lab\nmxtimeout.lab\n")
        process.stdin.flush()
        assert read_line(process, 5), "no result before the interrupt"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 130
        err = process.stderr.read()
        assert "Traceback" not in err
        assert "Task was destroyed" not in err
        assert err.strip() == "diagnose: interrupted."
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
