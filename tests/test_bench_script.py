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


def run_bench(tmp_path, *options: str) -> tuple[str, list[dict]]:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), *options, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(out.read_text())["rows"]


def test_bench_reuse_runs_every_truth_table_path(tmp_path):
    _, rows = run_bench(tmp_path, "--quick", "--only", "reuse", "--repeat", "1")
    (row,) = rows
    assert row["group"] == "reuse" and "truth-table paths" in row["figure"]
    assert isinstance(row["ours"], float) and row["ours"] > 0


def test_bench_scaling_replays_a_consultation_asked_one_by_one_once(tmp_path):
    # Asked question by question, a consultation goes on from its last step's reasoner:
    # the note counts the steps and the replays into a fresh engine (one, the first).
    _, rows = run_bench(tmp_path, "--quick", "--only", "scaling", "--repeat", "1")
    per_size = [row for row in rows if "asked one by one" in row["figure"]]
    assert len(per_size) >= 2
    for row in per_size:
        assert "1 replay into a fresh engine" in row["note"], row["note"]
    assert any("growth" in row["figure"] for row in rows)


def test_bench_kb_tools_times_each_authoring_command(tmp_path):
    _, rows = run_bench(tmp_path, "--quick", "--only", "kb-tools", "--repeat", "1")
    figures = [row["figure"] for row in rows]
    assert len(rows) == 4 and all(row["group"] == "kb-tools" for row in rows)
    assert any(figure.startswith("kb test (") for figure in figures)
    assert all(isinstance(row["ours"], float) and row["ours"] > 0 for row in rows)


def test_web_bench_runs_consultations_against_the_real_server(tmp_path):
    out = tmp_path / "web.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "web_bench.py"),
            "--clients",
            "3",
            "--seconds",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["errors"] == 0 and result["consultations"] > 0
    assert set(result["steps"]) == {"start", "goal", "problem", "solved", "api"}
    assert result["steps"]["solved"]["count"] == result["consultations"]
    assert result["memory_kib"]["peak"] > 0
