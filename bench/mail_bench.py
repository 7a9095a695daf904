"""Benchmark of ``diagnose mail`` against checkdmarc, on a local DNS server.

Figures (each row: figure, ours, reference, ratio, target, met):

- round trips per domain: one domain checked over a link with a 0.1 s delay per DNS
  answer; elapsed / delay (in-process for both tools, so start-up is not counted):
  the round trips on the wire;
- round trips beyond ``diagnose --version``: the same, measured as a whole process the
  way a user runs it (``python -m diagnose mail --nameserver ... DOMAIN``), minus the
  whole process of ``python -m diagnose --version`` (medians of alternating runs), so
  that imports, start-up work and interpreter shutdown count;
- domains per second for a batch (CLI, start-up included), ours with the default
  concurrency, checkdmarc as its CLI runs them (one after another); checkdmarc is
  measured on a subset (it needs ~14 s per 200 domains) and its rate is compared.
  Each tool runs once before it is measured, so that the server answers from its
  cache (a cache hit costs microseconds; parsing a query with dnspython ~0.5 ms) and
  the figure measures the client, not the Python test server;
- the timeout budget: ``--timeout 2`` against a server that never answers;
- peak memory of ours for the small and the large batch (streaming: it stays flat).

checkdmarc is not a project dependency: it is installed into bench/.venv-checkdmarc
(gitignored). It can only query port 53, so the servers listen on 127.0.0.2-4:53 (this
needs root). No traffic leaves loopback: every zone's addresses are 127.0.0.0/8.

Run: ``python bench/mail_bench.py [--quick]``. ``run(quick)`` returns the rows for
bench/run.py.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "dnsserver.py"
REF_VENV = ROOT / "bench" / ".venv-checkdmarc"
REF_PYTHON = REF_VENV / "bin" / "python"
DELAY = 0.1

# Where each server listens (port 53 for checkdmarc's sake; ours uses the same ones).
FAST_HOST = "127.0.0.2"  # no delay: throughput
SLOW_HOST = "127.0.0.3"  # 0.1 s per answer: round trips
SILENT_HOST = "127.0.0.4"  # never answers: timeout budget

HEADER = """$TTL 300
@ SOA ns.bench. hostmaster.bench. 1 3600 600 86400 300
@ NS ns.bench.
ns A 127.0.0.1
_spf TXT "v=spf1 ip4:127.0.0.0/8 -all"
"""


def write_zones(directory: Path, count: int) -> list[str]:
    """``count`` domains under ``bench.``: MX, an address, SPF (a quarter with an
    include), DMARC. Returns the domain names."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    with open(directory / "bench.zone", "w") as zone:
        zone.write(HEADER)
        for index in range(count):
            label = f"d{index}"
            names.append(f"{label}.bench")
            spf = "v=spf1 include:_spf.bench -all" if index % 4 == 0 else "v=spf1 mx -all"
            zone.write(
                f"{label} MX 10 mx.{label}.bench.\n"
                f"mx.{label} A 127.0.{index // 250 % 250}.{index % 250 + 1}\n"
                f'{label} TXT "{spf}"\n'
                f'_dmarc.{label} TXT "v=DMARC1; p=reject"\n'
            )
    return names


class Server:
    """tests/dnsserver.py in a subprocess (its own core), on HOST:53."""

    def __init__(self, zones: Path, host: str, delay: float = 0.0, fault: str | None = None):
        args = [sys.executable, str(SERVER), "--zones", str(zones), "--host", host]
        args += ["--port", "53", "--delay", str(delay)]
        if fault:
            args += ["--fault", fault]
        self.host = host
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.process.stdout.readline() if self.process.stdout else b""
        if not line.startswith(b"serving"):
            error = self.process.stderr.read().decode() if self.process.stderr else ""
            raise RuntimeError(f"The DNS server did not start on {host}:53: {error.strip()}")
        self._wait_bound()

    def _wait_bound(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                if probe.connect_ex((self.host, 53)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"The DNS server on {self.host}:53 did not come up.")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def ensure_checkdmarc() -> Path | None:
    """The checkdmarc venv's python, created on first use; None if it cannot be."""
    if REF_PYTHON.exists():
        check = subprocess.run([str(REF_PYTHON), "-c", "import checkdmarc"], capture_output=True)
        if check.returncode == 0:
            return REF_PYTHON
    try:
        subprocess.run([sys.executable, "-m", "venv", str(REF_VENV)], check=True)
        subprocess.run(
            [str(REF_PYTHON), "-m", "pip", "install", "-q", "checkdmarc"],
            check=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as error:
        print(f"checkdmarc could not be installed: {error}", file=sys.stderr)
        return None
    return REF_PYTHON


def timed(args: list[str], stdin: Path | None = None, limit: float = 900) -> tuple[float, int, int]:
    """Run ``args``; (elapsed seconds, exit code, peak RSS in KiB).

    The peak is the child's own VmHWM, read from /proc while it runs: its ru_maxrss
    would also count the pages it shared with this (large) process between fork and exec.
    """
    started = time.perf_counter()
    peak = 0
    with open(os.devnull, "wb") as sink:
        source = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
        try:
            process = subprocess.Popen(args, stdin=source, stdout=sink, stderr=subprocess.PIPE)
            deadline = started + limit
            while True:
                peak = max(peak, _high_water_mark(process.pid))
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    process.kill()
                    pid, status, usage = os.wait4(process.pid, 0)
                    break
                time.sleep(0.01)
            process.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdin:
                source.close()  # type: ignore[union-attr]
    return time.perf_counter() - started, process.returncode, peak or usage.ru_maxrss


def _high_water_mark(pid: int) -> int:
    """The process's peak resident set since its exec, in KiB (0 if unknown)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


OURS_ONE = """
import sys, time
from diagnose.checks.mail import check_domain
from diagnose.checks.settings import DnsSettings
check_domain("d1.bench", DnsSettings(((sys.argv[1], 53),), 10.0))  # warm up imports
samples = []
for name in ("d2.bench", "d3.bench", "d5.bench"):
    started = time.perf_counter()
    report = check_domain(name, DnsSettings(((sys.argv[1], 53),), 10.0))
    samples.append(time.perf_counter() - started)
    assert report.status.value != "error", report
print(sorted(samples)[1])
"""

REF_ONE = """
import sys, time
import checkdmarc
checkdmarc.check_domains(["d1.bench"], nameservers=[sys.argv[1]], timeout=10.0)
samples = []
for name in ("d2.bench", "d3.bench", "d5.bench"):
    started = time.perf_counter()
    checkdmarc.check_domains([name], nameservers=[sys.argv[1]], timeout=10.0)
    samples.append(time.perf_counter() - started)
print(sorted(samples)[1])
"""


def one_domain_seconds(python: Path | str, script: str, host: str) -> float:
    run = subprocess.run(
        [str(python), "-c", script, host], capture_output=True, text=True, timeout=300
    )
    if run.returncode != 0:
        raise RuntimeError(run.stderr.strip().splitlines()[-1] if run.stderr else "failed")
    return float(run.stdout.strip().splitlines()[-1])


def whole_process_round_trips(runs: int, host: str = SLOW_HOST) -> tuple[float, float, float]:
    """(round trips beyond ``--version``, median seconds of ``--version``, of ``mail``):
    ``diagnose mail`` and ``diagnose --version`` run alternately as whole processes, one
    domain each time, against the server that delays every answer by ``DELAY``."""
    import statistics

    base = [sys.executable, "-m", "diagnose"]
    version: list[float] = []
    mail: list[float] = []
    for index in range(runs + 1):
        started = time.perf_counter()
        subprocess.run([*base, "--version"], capture_output=True, check=True, timeout=60)
        version_seconds = time.perf_counter() - started
        name = f"d{2 + index % 10}.bench"
        started = time.perf_counter()
        done = subprocess.run(
            [*base, "mail", "--nameserver", host, "--timeout", "10", name],
            capture_output=True,
            timeout=60,
        )
        mail_seconds = time.perf_counter() - started
        if done.returncode not in (0, 1):  # 1: the bench hosts' addresses are loopback
            raise RuntimeError(f"diagnose mail exited {done.returncode}: {done.stderr!r}")
        if index:  # the first pair warms the file cache
            version.append(version_seconds)
            mail.append(mail_seconds)
    v, m = statistics.median(version), statistics.median(mail)
    return (m - v) / DELAY, v, m


def dnspython_floor(host: str, domains: list[str]) -> tuple[float, float]:
    """The floor any checker built on dnspython meets: the messages our checks exchange
    for ``domains`` (real answers from the bench server), built and parsed by dnspython
    alone, one core, no network and no resolver logic. Returns (domains per second,
    queries per domain)."""
    import timeit

    import dns.message
    import dns.query

    queries: list[tuple[str, str]] = []
    for name in domains:
        queries += [(name, "MX"), (name, "TXT"), (f"_dmarc.{name}", "TXT")]
        queries += [(f"mx.{name}", "A"), (f"mx.{name}", "AAAA")]
        txt = dns.query.udp(dns.message.make_query(name, "TXT"), host, timeout=5)
        if any("include:" in rr.to_text() for rrset in txt.answer for rr in rrset):
            queries.append(("_spf.bench", "TXT"))
    wires = [
        dns.query.udp(
            dns.message.make_query(q, t, use_edns=0, payload=1232), host, timeout=5
        ).to_wire()
        for q, t in queries
    ]

    def work() -> None:
        for (qname, rdtype), wire in zip(queries, wires, strict=True):
            dns.message.make_query(qname, rdtype, use_edns=0, payload=1232).to_wire()
            dns.message.from_wire(wire)

    seconds = min(timeit.repeat(work, number=20, repeat=5)) / 20
    return len(domains) / seconds, len(queries) / len(domains)


def row(
    figure: str,
    ours: float,
    reference: float | None,
    target: str,
    met: bool,
    lower_is_better: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One figure; ``ratio`` is how many times better ours is than the reference."""
    ratio = None
    if reference and ours:
        ratio = reference / ours if lower_is_better else ours / reference
    return {
        "figure": figure,
        "ours": round(ours, 2),
        "reference": None if reference is None else round(reference, 2),
        "ratio": None if ratio is None else round(ratio, 1),
        "target": target,
        "met": met,
        **extra,
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure; every figure's ``met`` says whether its target was reached."""
    small, large = (200, 1000) if quick else (1000, 10000)
    ref_subset = 30 if quick else 200
    ref_python = ensure_checkdmarc()
    rows: list[dict[str, Any]] = []
    ours_cli = [sys.executable, "-m", "diagnose", "mail"]
    with tempfile.TemporaryDirectory(prefix="mail-bench-") as temp:
        work = Path(temp)
        small_zone, large_zone = work / "small", work / "large"
        write_zones(small_zone, 16)
        names = write_zones(large_zone, large)
        servers = [
            Server(large_zone, FAST_HOST),
            Server(small_zone, SLOW_HOST, delay=DELAY),
            Server(small_zone, SILENT_HOST, fault="timeout"),
        ]
        try:
            # 1. Round trips for one domain over a slow link.
            ours = one_domain_seconds(sys.executable, OURS_ONE, SLOW_HOST) / DELAY
            ref = one_domain_seconds(ref_python, REF_ONE, SLOW_HOST) / DELAY if ref_python else None
            rows.append(
                row(
                    "round trips per domain (0.1 s per answer)",
                    ours,
                    ref,
                    "<= 2.5",
                    ours <= 2.5,
                    lower_is_better=True,
                )
            )

            # 1b. The same as a whole process, beyond what `diagnose --version` costs.
            whole, version, mail = whole_process_round_trips(5 if quick else 15)
            rows.append(
                row(
                    "whole process: round trips beyond diagnose --version (0.1 s per answer)",
                    whole,
                    None,
                    "<= 2.5, and ~2 on the wire",
                    whole <= 2.5 and ours <= 2.5,
                    lower_is_better=True,
                    on_the_wire=round(ours, 2),
                    version_ms=round(version * 1000, 1),
                    mail_ms=round(mail * 1000, 1),
                    reference_note=(
                        f"median whole process: diagnose mail {mail * 1000:.0f} ms, "
                        f"diagnose --version {version * 1000:.0f} ms; on the wire {ours:.2f}"
                    ),
                )
            )

            # 2. Throughput, CLI with start-up, JSON to /dev/null.
            ref_rate = None
            if ref_python:
                subset = work / "ref-domains.txt"
                subset.write_text("\n".join(names[:ref_subset]) + "\n")
                checkdmarc = [str(REF_VENV / "bin" / "checkdmarc"), "-n", FAST_HOST, "-f", "json"]
                timed([*checkdmarc, str(subset)])  # warm the server's answer cache
                elapsed, _, _ = timed([*checkdmarc, str(subset)])
                ref_rate = ref_subset / elapsed
            peaks = {}
            listing = work / "domains-all.txt"
            listing.write_text("\n".join(names) + "\n")
            warm = [*ours_cli, "--nameserver", FAST_HOST, "--format", "json"]
            timed([*warm, "--from-file", str(listing)])  # warm the server's answer cache
            for count in (small, large):
                listing = work / f"domains-{count}.txt"
                listing.write_text("\n".join(names[:count]) + "\n")
                args = [*ours_cli, "--nameserver", FAST_HOST, "--format", "json"]
                elapsed, code, peak = timed([*args, "--from-file", str(listing)])
                if code not in (0, 1):
                    raise RuntimeError(f"diagnose mail exited {code} on {count} domains.")
                peaks[count] = peak / 1024
                rate = count / elapsed
                rows.append(
                    row(
                        f"domains/s, {count:,} domains",
                        rate,
                        ref_rate,
                        ">= 20x reference" if ref_rate else "n/a",
                        bool(ref_rate and rate >= 20 * ref_rate),
                        reference_note=f"checkdmarc measured on {ref_subset} domains",
                    )
                )
            floor, per_domain = dnspython_floor(FAST_HOST, names[:100])
            rows.append(
                row(
                    "dnspython floor: domains/s building and parsing alone (1 core)",
                    rate,
                    floor,
                    "(how close the batch comes)",
                    True,
                    queries_per_domain=round(per_domain, 2),
                    reference_note="ratio: our batch rate / the floor",
                )
            )
            rows.append(
                row(
                    f"peak RSS MiB, {large:,} vs {small:,} domains",
                    peaks[large],
                    peaks[small],
                    "<= 1.5x (flat)",
                    peaks[large] <= 1.5 * peaks[small],
                    lower_is_better=True,
                    reference_note="reference column: ours on the smaller batch",
                )
            )

            # 3. The timeout budget against a server that never answers.
            args = [*ours_cli, "--nameserver", SILENT_HOST, "--timeout", "2", "d1.bench"]
            ours_elapsed, code, _ = timed(args)
            ref_elapsed = None
            if ref_python:
                checkdmarc = [str(REF_VENV / "bin" / "checkdmarc"), "-n", SILENT_HOST]
                ref_elapsed, ref_code, _ = timed([*checkdmarc, "-t", "2", "d1.bench"], limit=120)
            rows.append(
                row(
                    "seconds for --timeout 2, silent server",
                    ours_elapsed,
                    ref_elapsed,
                    "<= 2.5 and exit 3",
                    ours_elapsed <= 2.5 and code == 3,
                    lower_is_better=True,
                    exit_code=code,
                    reference_exit_code=ref_code if ref_python else None,
                )
            )
        finally:
            for server in servers:
                server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller batches")
    args = parser.parse_args()
    rows = run(args.quick)
    columns = ("figure", "ours", "reference", "ratio", "target", "met")
    widths = [
        max(len(str(r[c])) for r in [dict(zip(columns, columns, strict=True)), *rows])
        for c in columns
    ]
    for r in [dict(zip(columns, columns, strict=True)), *rows]:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in rows:
        notes = {k: v for k, v in r.items() if k not in columns}
        if notes:
            print(f"  {r['figure']}: {notes}")


if __name__ == "__main__":
    main()
