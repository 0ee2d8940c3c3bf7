"""scripts/fault_texts, short: a worker killed holding a text Twilio accepted, a flaky
Twilio, and still every text sent exactly once (its own cluster, workers and fake)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_a_short_fault_run_sends_every_text_once() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "fault_texts.py"), "--texts", "30", "--timeout", "90"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "SIGKILLed holding a text Twilio had accepted" in out
    figures = dict(re.findall(r"^  (queued|sent|failed|lost|sent twice) +(\d+)", out, re.M))
    assert figures == {"queued": "30", "sent": "30", "failed": "0", "lost": "0", "sent twice": "0"}
    assert (SCRIPTS / "fault_texts").stat().st_mode & 0o111
