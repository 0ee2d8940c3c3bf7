"""scripts/fault_webhooks, short: the enterprise's receiver down, then slow, under a flow of
job changes; every event delivered, in order per job (its own cluster, API, workers)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_a_short_fault_run_delivers_every_event_in_order() -> None:
    command = [sys.executable, str(SCRIPTS / "fault_webhooks.py"), "--quick"]
    result = subprocess.run(
        [*command, "--jobs", "3", "--down-seconds", "3", "--slow-seconds", "10"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    figures = {
        name: int(number) for name, number in re.findall(r"^  ([a-z ]+?) +(\d+)\b", out, re.M)
    }
    assert figures["events queued"] == figures["changes acknowledged"] > 9
    assert figures["delivered"] == figures["events queued"]
    assert figures["lost"] == figures["out of order per job"] == figures["stuck in the queue"] == 0
    assert figures["bad signatures"] == 0
    assert figures["slow answers"] > 0  # retries are at most 8 s apart in a quick run
    assert (SCRIPTS / "fault_webhooks").stat().st_mode & 0o111
