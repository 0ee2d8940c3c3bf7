"""scripts/bench_ingest stays runnable: it parses, and its data are what the API takes
(its helpers shared with the other benches live in scripts/benchkit.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapi.db import utcnow
from fieldapi.locations.pings import validate_pings

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ingest", SCRIPTS / "bench_ingest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ingest"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchkit", SCRIPTS / "benchkit.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchkit"] = module
    spec.loader.exec_module(module)
    return module


def test_help_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench_ingest.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--quick" in result.stdout
    wrapper = (SCRIPTS / "bench_ingest").read_text()
    assert wrapper.startswith("#!/usr/bin/env bash")
    assert (SCRIPTS / "bench_ingest").stat().st_mode & 0o111


def test_the_plans_are_bounded(bench: ModuleType) -> None:
    full = bench.make_plan(bench.parse_args([]))
    quick = bench.make_plan(bench.parse_args(["--quick"]))
    assert full.technicians * full.pings_per_technician == 1_000_000
    assert quick.technicians * quick.pings_per_technician < 1_000_000
    huge = bench.make_plan(bench.parse_args(["--technicians", "10000000"]))
    assert huge.technicians <= 5000


def test_generated_pings_are_all_valid(kit: ModuleType) -> None:
    import random

    now = utcnow()
    pings = kit.walk(random.Random(1), 600, now - timedelta(minutes=10))
    valid, rejected, repeats = validate_pings(pings, now=now, retention_days=60)
    assert (len(valid), rejected, repeats) == (600, [], 0)


def test_the_copy_baseline_writes_the_same_points(bench: ModuleType, db: Session) -> None:
    point = db.execute(
        text("SELECT ST_AsText(CAST(:ewkb AS geography)), ST_SRID(CAST(:ewkb AS geography))"),
        {"ewkb": bench.ewkb_point(-87.6298, 41.8781)},
    ).one()
    assert tuple(point) == ("POINT(-87.6298 41.8781)", 4326)


def test_cpu_seconds_count_a_process_tree_and_its_reaped_children(kit: ModuleType) -> None:
    import os
    import time

    before = kit.tree_cpu_seconds(os.getpid())
    subprocess.run(  # a child that burns CPU, then is reaped
        [
            sys.executable,
            "-c",
            "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass",
        ],
        check=True,
        timeout=60,
    )
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    assert kit.tree_cpu_seconds(os.getpid()) - before >= 0.4
