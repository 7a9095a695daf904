"""Load on ``diagnose serve``: many concurrent clients against the real server.

Each client goes through consultations on the page, as a browser without JavaScript
does, one request per step, over a kept-alive HTTP/1.1 connection:

1. ``start``: GET ``/`` (the first question);
2. ``goal``: POST the answer ``sign-in`` (the next question);
3. ``problem``: POST ``forgot-password`` (the article and "Did this solve it?");
4. ``solved``: POST "yes" (the end: channels, the explanation);

and, every fourth consultation, ``api``: POST ``/api/v1/consultation`` with the same
answers (the result JSON). Reported: requests per second, p50 and p95 per step, errors
(any status but 200, any broken connection), and the server's memory (resident set,
peak and at the end, read from /proc). The clients run in this process (asyncio
streams, no HTTP library): on a small machine they share its cores with the server,
so the figures are a floor.

Run: ``python bench/web_bench.py [--clients 200] [--seconds 30] [--workers 1]
[--json FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("start", "goal", "problem", "solved", "api")
_FIELD = re.compile(r'name="(state|at)" value="([^"]*)"')


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", kind: str = "") -> str:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAccept-Language: en\r\n"
        if body:
            head += f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        data = await self.reader.readexactly(length)
        if close:
            await self.close()
        if status != 200:
            raise RuntimeError(f"status {status}")
        return data.decode()

    async def post_form(self, fields: dict[str, str]) -> str:
        body = urllib.parse.urlencode(fields).encode()
        return await self.request("POST", "/", body, "application/x-www-form-urlencoded")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _form(page: str) -> dict[str, str]:
    found = {name: html.unescape(value) for name, value in _FIELD.findall(page)}
    if "at" not in found:
        raise RuntimeError("no step form on the page")
    return found


async def consult(client: Client, times: dict[str, list[float]], api: bool) -> None:
    async def step(name: str, call: object) -> str:
        started = time.perf_counter()
        page = await call  # type: ignore[misc]
        times[name].append(time.perf_counter() - started)
        return page

    page = await step("start", client.request("GET", "/"))
    page = await step(
        "goal", client.post_form({**_form(page), "action": "answer", "answer": "sign-in"})
    )
    form = _form(page)
    page = await step(
        "problem", client.post_form({**form, "action": "answer", "answer": "forgot-password"})
    )
    form = _form(page)
    if form["at"] != "confirm":
        raise RuntimeError(f"reached {form['at']}, not the confirmation")
    page = await step("solved", client.post_form({**form, "action": "say:yes"}))
    if _form(page)["at"] != "done":
        raise RuntimeError("the consultation did not end")
    if api:
        body = json.dumps({"answers": {"goal": "sign-in", "sign-in-problem": "forgot-password"}})
        reply = await step(
            "api",
            client.request("POST", "/api/v1/consultation", body.encode(), "application/json"),
        )
        if not json.loads(reply)["done"]:
            raise RuntimeError("the API did not reach a result")


async def load(port: int, clients: int, seconds: float) -> tuple[dict[str, list[float]], int, int]:
    times: dict[str, list[float]] = {name: [] for name in STEPS}
    errors = 0
    consultations = 0
    deadline = time.monotonic() + seconds

    async def one(index: int) -> None:
        nonlocal errors, consultations
        client = Client(port)
        count = 0
        while time.monotonic() < deadline:
            try:
                await consult(client, times, api=(index + count) % 4 == 0)
                consultations += 1
            except (OSError, RuntimeError, ValueError, asyncio.IncompleteReadError):
                errors += 1
                await client.close()
            count += 1
        await client.close()

    await asyncio.gather(*(one(i) for i in range(clients)))
    return times, errors, consultations


def _memory(pid: int) -> tuple[int, int]:
    """Resident set and its peak (VmRSS, VmHWM) in KiB, of ``pid`` and its children
    (uvicorn's workers)."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    rss = peak = 0
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss += int(fields.get("VmRSS", "0 kB").split()[0])
        peak += int(fields.get("VmHWM", "0 kB").split()[0])
    return rss, peak


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", dest="json_file")
    args = parser.parse_args(argv)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "diagnose", "serve", "--port", str(port),
         "--workers", str(args.workers), "--rate-limit", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0 if args.workers > 1 else 0.2)  # every worker has loaded
        idle, _ = _memory(server.pid)
        started = time.monotonic()
        times, errors, consultations = asyncio.run(load(port, args.clients, args.seconds))
        elapsed = time.monotonic() - started
        rss, peak = _memory(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    requests = sum(len(v) for v in times.values())
    result = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "workers": args.workers,
        "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "consultations": consultations,
        "errors": errors,
        "steps": {
            name: {
                "count": len(values),
                "p50_ms": round(_percentile(values, 0.50) * 1000, 1),
                "p95_ms": round(_percentile(values, 0.95) * 1000, 1),
                "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else 0.0,
            }
            for name, values in times.items()
        },
        "memory_kib": {"idle": idle, "end": rss, "peak": peak},
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    print(
        f"{args.clients} clients, {result['seconds']} s, {args.workers} worker(s): "
        f"{requests} requests, {result['requests_per_second']} requests/s, "
        f"{consultations} consultations, {errors} errors"
    )
    for name, row in result["steps"].items():  # type: ignore[union-attr]
        print(
            f"  {name:<8} n={row['count']:<6} p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms"
        )
    memory = result["memory_kib"]
    print(
        f"  server memory (RSS): idle {memory['idle'] / 1024:.0f} MiB, "  # type: ignore[index]
        f"peak {memory['peak'] / 1024:.0f} MiB, end {memory['end'] / 1024:.0f} MiB"  # type: ignore[index]
    )
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
