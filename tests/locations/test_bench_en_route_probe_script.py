"""scripts/bench_en_route_probe stays runnable, and finds the probe it measures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_a_short_run_prints_both_sides_and_their_ratio() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "bench_en_route_probe.py"),
            "--technicians",
            "30",
            "--statements",
            "500",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    with_probe = re.search(r"with the probe +([\d.]+) ms", result.stdout)
    without = re.search(r"without it +([\d.]+) ms", result.stdout)
    ratio = re.search(r"\(with/without\) = ([\d.]+)", result.stdout)
    assert with_probe and without and ratio, result.stdout
    assert float(without.group(1)) > 0
    assert (SCRIPTS / "bench_en_route_probe").stat().st_mode & 0o111
