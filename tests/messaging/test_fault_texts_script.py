"""scripts/fault_texts, short: a worker killed holding a text Twilio accepted, a flaky
Twilio, and still every text sent exactly once (its own cluster, workers and fake)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def workers_started_under(marker: str) -> list[int]:
    """Live `fieldapi worker` processes whose environment carries `marker`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if b"fieldapi.cli\0worker" not in (proc / "cmdline").read_bytes():
                continue
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def test_a_short_fault_run_sends_every_text_once() -> None:
    marker = f"FAULT_TEXTS_TEST={uuid.uuid4().hex}"
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "fault_texts.py"), "--texts", "30", "--timeout", "90"],
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ, FAULT_TEXTS_TEST=marker.partition("=")[2]),
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "SIGKILLed holding a text Twilio had accepted" in out
    figures = dict(re.findall(r"^  (queued|sent|failed|lost|sent twice) +(\d+)", out, re.M))
    assert figures == {"queued": "30", "sent": "30", "failed": "0", "lost": "0", "sent twice": "0"}
    assert (SCRIPTS / "fault_texts").stat().st_mode & 0o111
    # The surviving worker is stopped with the run, not left behind on a dead database.
    assert workers_started_under(marker) == []
