"""scripts/bench_on_my_way stays runnable and measures the on-my-way the tests pin."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.jobs.test_on_my_way import ON_MY_WAY_STATEMENTS

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_a_short_run_prints_both_sides_their_ratios_and_the_calls() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench_on_my_way.py"), "--requests", "8", "--profile", "2"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    sides = dict(
        re.findall(
            r"^  (on-my-way|GET /v1/me) +wall +[\d.]+ ms .* (\d+) statements$", result.stdout, re.M
        )
    )
    assert sides == {"on-my-way": str(ON_MY_WAY_STATEMENTS), "GET /v1/me": "2"}, result.stdout
    ratios = re.search(r"wall ([\d.]+), CPU ([\d.]+)", result.stdout)
    calls = re.search(r"function calls per on-my-way \(cProfile\): ([\d,]+)", result.stdout)
    assert ratios and calls, result.stdout
    assert float(ratios.group(1)) > 0 and int(calls.group(1).replace(",", "")) > 0
    assert (SCRIPTS / "bench_on_my_way").stat().st_mode & 0o111
