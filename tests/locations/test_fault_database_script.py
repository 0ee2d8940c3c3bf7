"""scripts/fault_database, short: pings through a PostgreSQL restart and an outage, none of
the acknowledged ones lost, no API process restarted (its own cluster and gunicorn)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_a_short_fault_run_loses_no_acknowledged_ping() -> None:
    command = [sys.executable, str(SCRIPTS / "fault_database.py")]
    result = subprocess.run(
        [*command, "--clients", "2", "--steady", "1.5", "--outage", "1"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    acknowledged = int(re.search(r"acknowledged pings +([\d,]+)", out)[1].replace(",", ""))  # type: ignore[index]
    found = int(re.search(r"found in the database +([\d,]+)", out)[1].replace(",", ""))  # type: ignore[index]
    assert acknowledged > 0 and found == acknowledged
    assert re.search(r"answers in the outage .*\d+ x (503|no answer)", out)
    assert re.search(r"API processes restarted +0\b", out)
    assert (SCRIPTS / "fault_database").stat().st_mode & 0o111
