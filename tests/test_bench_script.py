"""bench/run.py works (structure only: its figures belong in the benchmark, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_startup_quick_writes_a_table_and_json(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--only",
            "startup",
            "--repeat",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "start-up: diagnose --version" in done.stdout
    rows = json.loads(out.read_text())["rows"]
    assert {row["group"] for row in rows} == {"startup", "consultation"}
    for row in rows:
        assert {"figure", "ours", "reference", "ratio", "target", "met"} <= set(row)
        assert isinstance(row["ours"], float)
