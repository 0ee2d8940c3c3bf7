"""`fieldapi demo --drive`: simulated technicians drive to their appointments."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fieldapi.accounts.models import User
from fieldapi.accounts.principal import Principal
from fieldapi.db import utcnow
from fieldapi.demo import seed_demo
from fieldapi.demo_drive import (
    Driver,
    LatLon,
    bearing_deg,
    drive,
    find_drivers,
    offset,
    press,
    step_toward,
    tick,
)
from fieldapi.eta.model import clock_text
from fieldapi.jobs.commands import job_action
from fieldapi.jobs.models import ActivityEvent, Appointment, Job
from fieldapi.jobs.texts import TextSettings
from fieldapi.lifecycle import ActionName
from fieldapi.locations.models import LatestLocation, LocationPing
from fieldapi.locations.pings import distance_m
from fieldapi.locations.positions import latest_known_position
from fieldapi.locations.service import Limits
from fieldapi.messaging.models import Message

WACKER = LatLon(41.8789, -87.6359)
ADDISON = LatLon(41.9484, -87.6553)
FRESH = timedelta(minutes=10)
TEXTS = TextSettings()


def drive_an_hour(
    db: Session,
    org: uuid.UUID,
    *,
    clock: Callable[[], datetime],
    wait: Callable[[float], bool],
    report: Callable[[str], None],
    seed: int,
) -> list[Driver]:
    """`drive` for up to an hour, a ping every 30 s, with the default limits and texts."""
    return drive(
        db,
        org,
        minutes=60,
        interval_s=30,
        limits=Limits(),
        clock=clock,
        wait=wait,
        report=report,
        rng=random.Random(seed),
        texts=TEXTS,
    )


def test_a_step_moves_speed_times_dt_toward_the_target() -> None:
    total = distance_m(*ADDISON, *WACKER)
    moved = step_toward(ADDISON, WACKER, 10.0, 30.0)
    assert distance_m(*ADDISON, *moved) == pytest.approx(300.0, rel=1e-6)
    assert distance_m(*moved, *WACKER) == pytest.approx(total - 300.0, rel=1e-6)
    assert bearing_deg(moved, WACKER) == pytest.approx(bearing_deg(ADDISON, WACKER), abs=0.1)


def test_a_step_never_overshoots_and_zero_time_stays_put() -> None:
    near = offset(WACKER, 40.0, 90.0)
    assert step_toward(near, WACKER, 10.0, 5.0) == WACKER  # 50 m of travel, 40 m to go
    assert step_toward(WACKER, WACKER, 10.0, 5.0) == WACKER
    assert step_toward(ADDISON, WACKER, 10.0, 0.0) == ADDISON


def test_offset_is_the_distance_on_the_bearing() -> None:
    moved = offset(WACKER, 3_000.0, 45.0)
    assert distance_m(*WACKER, *moved) == pytest.approx(3_000.0, rel=1e-6)
    assert bearing_deg(WACKER, moved) == pytest.approx(45.0, abs=0.1)


def _latest(db: Session, org: uuid.UUID, user: uuid.UUID) -> LatLon:
    known = latest_known_position(db, org, user, FRESH)
    assert known is not None
    return LatLon(known.lat, known.lon)


def _visit(db: Session, org: uuid.UUID, technician: str, status: str) -> Appointment:
    """The demo technician's one appointment in that status."""
    return db.scalars(
        select(Appointment)
        .join(User, User.id == Appointment.technician_id)
        .where(Appointment.organization_id == org, User.name == technician)
        .where(Appointment.status == status)
    ).one()


def _status_of(db: Session, appointment_id: uuid.UUID) -> str:
    db.expire_all()
    return db.get_one(Appointment, appointment_id).status


def _activity(db: Session, appointment_id: uuid.UUID) -> list[ActivityEvent]:
    db.expire_all()
    return list(
        db.scalars(
            select(ActivityEvent)
            .where(ActivityEvent.appointment_id == appointment_id)
            .order_by(ActivityEvent.at, ActivityEvent.id)
        )
    )


def _texts(db: Session, appointment_id: uuid.UUID) -> list[Message]:
    db.expire_all()
    return list(
        db.scalars(
            select(Message)
            .where(Message.appointment_id == appointment_id)
            .order_by(Message.queued_at, Message.id)
        )
    )


def _pings(db: Session, user_id: uuid.UUID | None) -> list[datetime]:
    return list(
        db.scalars(
            select(LocationPing.recorded_at)
            .where(LocationPing.user_id == user_id)
            .order_by(LocationPing.recorded_at)
        )
    )


def _dispatcher(db: Session, org: uuid.UUID) -> Principal:
    user = db.scalars(
        select(User).where(User.organization_id == org, User.role == "dispatcher")
    ).one()
    return Principal(user.id, org, uuid.uuid4(), user.name, user.role)


def _every_30_s(start: datetime) -> Callable[[], datetime]:
    times = (start + timedelta(seconds=30 * i) for i in itertools.count())
    return lambda: next(times)


def test_each_tick_stores_one_ping_per_driver_through_the_service(db: Session) -> None:
    org = seed_demo(db)["organization_id"]
    rng = random.Random(7)
    now = utcnow() - timedelta(seconds=10)
    drivers = find_drivers(db, org, now=now, fresh_for=FRESH, rng=rng)
    names = {driver.name for driver in drivers}
    # Priya is en route; Lee's only appointment is paused; Sam's is scheduled in 2 h
    # (today unless the demo was seeded within 2 h of midnight in Chicago).
    assert "Priya Nair" in names and "Lee Chen" not in names
    priya = next(d for d in drivers if d.name == "Priya Nair")
    assert priya.customer_name == "Tom Becker" and priya.target == pytest.approx(WACKER)
    assert 2_000 <= priya.remaining_m <= 4_000  # she had no position: placed a few km away

    limits = Limits()
    assert tick(db, org, drivers, now=now, dt_s=0.0, limits=limits, rng=rng) == len(drivers)
    for driver in drivers:
        pings = db.scalar(
            select(func.count()).where(
                LocationPing.organization_id == org, LocationPing.user_id == driver.user_id
            )
        )
        assert pings == 1
    before = {d.user_id: distance_m(*_latest(db, org, d.user_id), *d.target) for d in drivers}

    later = now + timedelta(seconds=5)
    assert tick(db, org, drivers, now=later, dt_s=5.0, limits=limits, rng=rng) == len(drivers)
    for driver in drivers:
        after = distance_m(*_latest(db, org, driver.user_id), *driver.target)
        # Closer: 30-40 km/h for 5 s is 41.7-55.6 m; the GPS noise is at most 7.5 m a ping.
        assert 41.6 - 15 < before[driver.user_id] - after < 55.6 + 15
        row = db.scalars(
            select(LatestLocation).where(
                LatestLocation.organization_id == org, LatestLocation.user_id == driver.user_id
            )
        ).one()
        assert row.recorded_at == later and 5 <= (row.accuracy_m or 0) <= 15
        assert row.speed_mps is not None and 30 / 3.6 <= row.speed_mps <= 40 / 3.6 + 0.01


def test_a_driver_with_a_fresh_position_starts_there(db: Session) -> None:
    org = seed_demo(db)["organization_id"]
    priya = db.scalars(select(User).where(User.organization_id == org, User.name == "Priya Nair"))
    user = priya.one()
    visit = _visit(db, org, "Priya Nair", "enroute")
    start = offset(WACKER, 1_000.0, 0.0)
    driver = Driver(user.id, user.name, visit.id, "Tom Becker", WACKER, start, en_route=True)
    now = utcnow() - timedelta(minutes=1)
    tick(db, org, [driver], now=now, dt_s=0.0, limits=Limits(), rng=random.Random(1))
    found = find_drivers(db, org, now=now, fresh_for=FRESH, rng=random.Random(2))
    again = next(d for d in found if d.user_id == user.id)
    assert distance_m(*again.position, *start) < 10  # the stored fix, noise included


def test_off_duty_and_working_technicians_do_not_drive(db: Session) -> None:
    org = seed_demo(db)["organization_id"]
    db.execute(User.__table__.update().where(User.name == "Priya Nair").values(on_duty=False))
    names = {
        d.name for d in find_drivers(db, org, now=utcnow(), fresh_for=FRESH, rng=random.Random())
    }
    assert "Priya Nair" not in names
    db.execute(User.__table__.update().where(User.name == "Priya Nair").values(on_duty=True))
    enroute = db.scalars(
        select(Appointment).where(
            Appointment.organization_id == org, Appointment.status == "enroute"
        )
    ).one()
    enroute.status = "started"  # arranging a state directly: lifecycle tested elsewhere
    db.flush()
    names = {
        d.name for d in find_drivers(db, org, now=utcnow(), fresh_for=FRESH, rng=random.Random())
    }
    assert "Priya Nair" not in names


def test_the_loop_drives_until_everyone_arrives_without_sleeping(db: Session) -> None:
    org = seed_demo(db)["organization_id"]
    times = iter(utcnow() - timedelta(hours=1) + timedelta(seconds=30 * i) for i in range(10_000))
    waits: list[float] = []
    lines: list[str] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return False

    drivers = drive_an_hour(
        db, org, clock=lambda: next(times), wait=wait, report=lines.append, seed=3
    )
    assert drivers and all(d.arrived for d in drivers)
    assert lines[-1] == "everyone has arrived"
    assert set(waits) == {30}
    for driver in drivers:
        known = latest_known_position(db, org, driver.user_id, timedelta(hours=2))
        assert known is not None
        assert distance_m(known.lat, known.lon, *driver.target) <= 15
    # 2-4 km at 30-40 km/h, one ping every 30 s: between 6 and 30 pings each
    pings = db.scalar(select(func.count()).where(LocationPing.organization_id == org))
    assert 6 * len(drivers) <= (pings or 0) <= 30 * len(drivers)


def test_drivers_press_on_my_way_after_their_first_ping_and_start_on_arrival(
    db: Session,
) -> None:
    org = seed_demo(db)["organization_id"]
    sam = _visit(db, org, "Sam Ortiz", "scheduled")  # Maria Lopez's furnace, in 2 h
    priya = _visit(db, org, "Priya Nair", "enroute")  # pressed On My Way when seeded
    start = sam.starts_at  # the drive's "today" is the appointment's day, whatever the hour
    after_first_tick: list[str] = []
    lines: list[str] = []

    def wait(_seconds: float) -> bool:
        if not after_first_tick:
            after_first_tick.append(_status_of(db, sam.id))
        return False

    drivers = drive_an_hour(
        db, org, clock=_every_30_s(start), wait=wait, report=lines.append, seed=11
    )
    assert {d.name for d in drivers} == {"Sam Ortiz", "Priya Nair"}
    assert all(d.started and d.gave_up is None for d in drivers)
    assert lines[-1] == "everyone has arrived"
    assert "Sam Ortiz: started at Maria Lopez" in lines[-2]
    assert after_first_tick == ["enroute"]  # On My Way was pressed in the first tick
    assert _status_of(db, sam.id) == _status_of(db, priya.id) == "started"
    assert db.get_one(Job, sam.job_id).status == "in_progress"

    sam_pings = _pings(db, sam.technician_id)
    assert sam_pings[0] == start and len(sam_pings) >= 6
    changes = [e for e in _activity(db, sam.id) if e.action in ("on-my-way", "start")]
    assert [(e.action, e.from_status, e.to_status, e.actor_name) for e in changes] == [
        ("on-my-way", "scheduled", "in_progress", "Sam Ortiz"),
        ("start", "in_progress", "in_progress", "Sam Ortiz"),
    ]
    on_my_way, started = changes
    # Pressed after the first ping: the ETA comes from that position, 2-4 km out.
    assert on_my_way.at == start
    eta = on_my_way.details["eta"]
    assert eta["method"] == "latest_position"
    assert 2_000 - 10 <= eta["distance_m"] <= 4_000 + 10
    assert started.at == sam_pings[-1]  # on arrival, with the last ping
    arrive_by = datetime.fromisoformat(eta["arrive_by"])
    when = clock_text(arrive_by, "America/Chicago", now=start)
    texts = _texts(db, sam.id)
    # The on-my-way text ends with the tracking link (tests/public check the link itself).
    bodies = [m.body.split(" Track: ")[0] for m in texts]
    assert [(m.purpose, m.status, m.to_phone, b) for m, b in zip(texts, bodies, strict=True)] == [
        (
            "on_my_way",
            "queued",
            "+13122000201",
            f"Sam from Done Right Home Services is on the way, arriving around {when}.",
        ),
        ("arrival", "queued", "+13122000201", "Sam from Done Right Home Services has arrived."),
    ]
    queued = [e for e in _activity(db, sam.id) if e.action == "text_queued"]
    assert [e.details["message_id"] for e in queued] == [str(m.id) for m in texts]

    # Priya was already en route: no second On My Way, one Start, one arrival text.
    assert [e.action for e in _activity(db, priya.id) if e.action in ("on-my-way", "start")] == [
        "on-my-way",
        "start",
    ]
    assert [m.purpose for m in _texts(db, priya.id)] == ["on_my_way", "arrival"]


def test_an_appointment_canceled_mid_drive_is_given_up_and_the_others_go_on(
    db: Session,
) -> None:
    org = seed_demo(db)["organization_id"]
    sam = _visit(db, org, "Sam Ortiz", "scheduled")
    priya = _visit(db, org, "Priya Nair", "enroute")
    start = sam.starts_at
    lines: list[str] = []

    def wait(_seconds: float) -> bool:
        if _status_of(db, sam.id) == "enroute":  # a dispatcher cancels while Sam drives
            job_action(
                db,
                _dispatcher(db, org),
                sam.job_id,
                ActionName.CANCEL,
                reason="Customer called",
                now=start + timedelta(seconds=1),
            )
        return False

    drivers = drive_an_hour(
        db, org, clock=_every_30_s(start), wait=wait, report=lines.append, seed=12
    )
    by_name = {d.name: d for d in drivers}
    assert by_name["Sam Ortiz"].gave_up == "the appointment is canceled"
    assert not by_name["Sam Ortiz"].started and not by_name["Sam Ortiz"].arrived
    assert by_name["Priya Nair"].started and _status_of(db, priya.id) == "started"
    assert lines[-1] == "no one is driving any more"
    assert "Sam Ortiz: gave up on Maria Lopez (the appointment is canceled)" in lines[-2]
    assert _status_of(db, sam.id) == "canceled"
    assert _pings(db, sam.technician_id) == [start]  # he stopped driving after the cancel
    assert [e.action for e in _activity(db, sam.id) if e.action in ("on-my-way", "start")] == [
        "on-my-way"
    ]
    assert [m.purpose for m in _texts(db, sam.id)] == ["on_my_way"]


def test_a_refused_press_makes_the_driver_give_up_and_the_tick_goes_on(db: Session) -> None:
    org = seed_demo(db)["organization_id"]
    sam = _visit(db, org, "Sam Ortiz", "scheduled")
    priya = _visit(db, org, "Priya Nair", "enroute")
    now = utcnow()
    job_action(db, _dispatcher(db, org), priya.job_id, ActionName.CANCEL, now=now)
    assert priya.technician_id is not None and sam.technician_id is not None
    # The lifecycle refuses (409): Priya arrived at a visit canceled in the meantime.
    there = Driver(
        priya.technician_id, "Priya Nair", priya.id, "Tom Becker", WACKER, WACKER, True, True
    )
    entries, texts = len(_activity(db, priya.id)), len(_texts(db, priya.id))
    assert press(db, there, ActionName.START, now=now, texts=TEXTS) is False
    assert there.gave_up is not None
    assert there.gave_up.startswith("Cannot start this appointment: the job is canceled")
    assert (len(_activity(db, priya.id)), len(_texts(db, priya.id))) == (entries, texts)
    assert _status_of(db, priya.id) == "canceled"

    # Someone else's appointment: a technician cannot see it (404).
    wrong = Driver(priya.technician_id, "Priya Nair", sam.id, "Maria Lopez", ADDISON, WACKER)
    assert press(db, wrong, ActionName.ON_MY_WAY, now=now, texts=TEXTS) is False
    assert wrong.gave_up == "No such appointment." and _status_of(db, sam.id) == "scheduled"

    # The session is still usable: the next tick drives the others and skips those two.
    driving = Driver(sam.technician_id, "Sam Ortiz", sam.id, "Maria Lopez", ADDISON, WACKER)
    later = now + timedelta(seconds=5)
    drivers = [there, wrong, driving]
    assert tick(db, org, drivers, now=later, dt_s=5.0, limits=Limits(), rng=random.Random(1)) == 1
    assert driving.en_route and _status_of(db, sam.id) == "enroute"
    assert _pings(db, priya.technician_id) == []


def test_a_refused_press_keeps_no_lock_on_the_job(committed: Session, engine: Engine) -> None:
    org = seed_demo(committed)["organization_id"]
    committed.commit()
    priya = _visit(committed, org, "Priya Nair", "enroute")
    assert priya.technician_id is not None
    job_action(
        committed, _dispatcher(committed, org), priya.job_id, ActionName.CANCEL, now=utcnow()
    )
    there = Driver(
        priya.technician_id, "Priya Nair", priya.id, "Tom Becker", WACKER, WACKER, True, True
    )
    assert press(committed, there, ActionName.START, now=utcnow(), texts=TEXTS) is False
    # The refused action locked the job row (SELECT ... FOR UPDATE); a dispatcher acting on
    # that job must not wait for the drive's next tick to get it.
    with engine.connect() as other:
        locked = other.scalar(
            select(Job.id).where(Job.id == priya.job_id).with_for_update(nowait=True)
        )
        other.rollback()
    assert locked == priya.job_id


def test_the_loop_stops_when_asked_or_when_time_is_up(db: Session) -> None:
    org = seed_demo(db)["organization_id"]
    lines: list[str] = []
    drive(
        db,
        org,
        minutes=30,
        interval_s=5,
        limits=Limits(),
        wait=lambda _s: True,
        report=lines.append,
        rng=random.Random(4),
        texts=TEXTS,
    )
    assert lines[-1] == "stopped" and len(lines) == 2
    start = utcnow() - timedelta(minutes=5)
    times = iter(start + timedelta(seconds=5 * i) for i in range(100))
    lines.clear()
    drive(
        db,
        org,
        minutes=0.25,
        interval_s=5,
        limits=Limits(),
        clock=lambda: next(times),
        wait=lambda _s: False,
        report=lines.append,
        rng=random.Random(5),
        texts=TEXTS,
    )
    assert lines[-1] == "0.25 minutes are up" and len(lines) == 4  # ticks at 0, 5, 10 s


def test_the_command_drives_and_stops_on_sigterm(database_url: str, committed: Session) -> None:
    env = dict(os.environ, DATABASE_URL=database_url, FIELDAPI_ENV="test", SECRET_KEY="x")
    command = [sys.executable, "-m", "fieldapi.cli", "demo"]
    seeded = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert seeded.returncode == 0, seeded.stderr
    furnace = committed.scalars(
        select(Appointment.id)
        .join(User, User.id == Appointment.technician_id)
        .where(User.name == "Sam Ortiz", Appointment.status == "scheduled")
    ).one()
    committed.execute(
        Appointment.__table__.update().where(Appointment.id == furnace).values(starts_at=utcnow())
    )
    committed.commit()
    process = subprocess.Popen(
        [*command, "--drive", "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the second round of pings is in
            count = committed.scalar(select(func.count()).select_from(LocationPing)) or 0
            committed.rollback()
            if count >= 4:
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped") and "km to Tom Becker" in out
    assert committed.scalar(select(func.count()).select_from(LatestLocation)) >= 1
    # Sam's visit (moved to now, so it is today) got On My Way and its text, with an ETA.
    assert committed.get_one(Appointment, furnace).status == "enroute"
    [text] = committed.scalars(select(Message).where(Message.appointment_id == furnace)).all()
    assert text.purpose == "on_my_way" and "is on the way, arriving around" in text.body
