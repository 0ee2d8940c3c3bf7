"""Simulated technicians driving to their appointments (`fieldapi demo --drive`).

The pings go through `fieldapi.locations.service.ingest_pings`, the function behind
POST /v1/locations, so the team map, tracks and the on-my-way ETA see them as they see a
phone's. Like a technician, a driver presses On My Way after its first ping (so the
customer's text has an ETA from a real position) and Start on arrival, through
`fieldapi.jobs.commands.appointment_action`, the service of the HTTP actions. The geometry is
pure (`step_toward`); `tick` records one ping per driver and presses the buttons; `drive`
is the thin loop around it, with an injectable clock and wait so tests never sleep.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from geoalchemy2.shape import to_shape
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from fieldapi import lifecycle as lc
from fieldapi.accounts.models import Organization, User
from fieldapi.accounts.principal import Principal
from fieldapi.db import utcnow
from fieldapi.demo import DEMO_ORG
from fieldapi.errors import DomainError
from fieldapi.jobs.commands import appointment_action
from fieldapi.jobs.models import Appointment, Customer, Job
from fieldapi.jobs.texts import TextSettings
from fieldapi.locations.pings import EARTH_RADIUS_M, distance_m, iso_utc
from fieldapi.locations.positions import latest_known_position
from fieldapi.locations.service import Limits, ingest_pings

CITY_SPEED_KMH = (30.0, 40.0)
START_DISTANCE_M = (2_000.0, 4_000.0)  # where a technician without a position starts
ACCURACY_M = (5.0, 15.0)
DRIVING_TO = ("scheduled", "enroute")  # an appointment in another status is not driven to
DEFAULT_TEXTS = TextSettings()


class LatLon(NamedTuple):
    lat: float
    lon: float


def step_toward(position: LatLon, target: LatLon, speed_mps: float, dt_s: float) -> LatLon:
    """Where one is after moving `speed_mps * dt_s` metres along the great circle toward
    `target`; the target itself when it is that close or closer (never overshoots)."""
    total = distance_m(*position, *target)
    step = max(0.0, speed_mps * dt_s)
    if total <= step:
        return target
    if step == 0:
        return position
    # Interpolation along the great circle (slerp of the two unit vectors).
    delta = total / EARTH_RADIUS_M
    fraction = step / total
    a = math.sin((1 - fraction) * delta) / math.sin(delta)
    b = math.sin(fraction * delta) / math.sin(delta)
    lat1, lon1, lat2, lon2 = map(math.radians, (*position, *target))
    x = a * math.cos(lat1) * math.cos(lon1) + b * math.cos(lat2) * math.cos(lon2)
    y = a * math.cos(lat1) * math.sin(lon1) + b * math.cos(lat2) * math.sin(lon2)
    z = a * math.sin(lat1) + b * math.sin(lat2)
    lat = math.atan2(z, math.hypot(x, y))
    return LatLon(math.degrees(lat), math.degrees(math.atan2(y, x)))


def bearing_deg(position: LatLon, target: LatLon) -> float:
    """Initial great-circle bearing from position to target, in [0, 360)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*position, *target))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360.0


def offset(position: LatLon, distance: float, bearing: float) -> LatLon:
    """The point `distance` metres from position on the given bearing (degrees)."""
    delta = distance / EARTH_RADIUS_M
    theta = math.radians(bearing)
    lat1, lon1 = math.radians(position.lat), math.radians(position.lon)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(theta)
    )
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(lat1),
        math.cos(delta) - math.sin(lat1) * math.sin(lat2),
    )
    return LatLon(math.degrees(lat2), (math.degrees(lon2) + 540.0) % 360.0 - 180.0)


@dataclass
class Driver:
    user_id: uuid.UUID
    name: str
    appointment_id: uuid.UUID
    customer_name: str
    target: LatLon
    position: LatLon  # the true position; the pings carry it with GPS noise
    arrived: bool = False
    en_route: bool = False  # the appointment is enroute (On My Way was pressed)
    started: bool = False  # Start was pressed on arrival
    gave_up: str | None = None  # why the driver stopped driving to the appointment

    @property
    def remaining_m(self) -> float:
        return distance_m(*self.position, *self.target)

    @property
    def driving(self) -> bool:
        return not self.arrived and self.gave_up is None


def demo_organization_id(db: Session) -> uuid.UUID | None:
    """The newest demo organization (`fieldapi demo` may have been run more than once)."""
    return db.scalars(
        select(Organization.id)
        .where(Organization.name == DEMO_ORG)
        .order_by(Organization.created_at.desc())
        .limit(1)
    ).first()


def find_drivers(
    db: Session,
    organization_id: uuid.UUID,
    *,
    now: datetime,
    fresh_for: timedelta,
    rng: random.Random,
) -> list[Driver]:
    """Each active, on-duty technician not working on site, with the appointment they are
    en route to or else their next one scheduled today (organization's day), whose customer
    has a site. They start at their latest position when it is fresh, else a few km away."""
    timezone = db.scalar(select(Organization.timezone).where(Organization.id == organization_id))
    if timezone is None:
        return []
    day_start = now.astimezone(ZoneInfo(timezone)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    day_end = day_start + timedelta(days=1)
    working = aliased(Appointment)
    rows = db.execute(
        select(User.id, User.name, Appointment.id, Appointment.status, Customer.name, Customer.site)
        .join(Appointment, Appointment.technician_id == User.id)
        .join(Job, Job.id == Appointment.job_id)
        .join(Customer, Customer.id == Job.customer_id)
        .where(
            User.organization_id == organization_id,
            User.role.in_(("technician", "both")),
            User.active,
            User.on_duty,
            Appointment.organization_id == organization_id,
            Customer.site.is_not(None),
            or_(
                Appointment.status == "enroute",
                and_(
                    Appointment.status == "scheduled",
                    Appointment.starts_at >= day_start,
                    Appointment.starts_at < day_end,
                ),
            ),
            ~exists().where(working.technician_id == User.id, working.status == "started"),
        )
        .order_by(
            User.name,
            User.id,
            (Appointment.status == "enroute").desc(),
            Appointment.starts_at,
        )
    ).all()
    drivers: dict[uuid.UUID, Driver] = {}
    for user_id, name, appointment_id, status, customer_name, site in rows:
        if user_id in drivers or site is None:
            continue
        point = to_shape(site)
        target = LatLon(point.y, point.x)
        known = latest_known_position(db, organization_id, user_id, fresh_for, now=now)
        if known is not None:
            start = LatLon(known.lat, known.lon)
        else:
            start = offset(target, rng.uniform(*START_DISTANCE_M), rng.uniform(0.0, 360.0))
        drivers[user_id] = Driver(
            user_id,
            name,
            appointment_id,
            customer_name,
            target,
            start,
            en_route=status == "enroute",
        )
    return list(drivers.values())


def _noisy(position: LatLon, accuracy_m: float, rng: random.Random) -> LatLon:
    """The position as a phone reports it: off by a few metres, within its accuracy."""
    error = min(abs(rng.gauss(0.0, accuracy_m / 4)), accuracy_m / 2)
    return offset(position, error, rng.uniform(0.0, 360.0))


def _follow_appointments(db: Session, drivers: list[Driver]) -> None:
    """What a phone would show: a driver whose appointment was canceled, started by someone
    else, deleted or given to another technician stops driving to it."""
    driving = [driver for driver in drivers if driver.driving]
    if not driving:
        return
    rows = {
        appointment_id: (status, technician_id)
        for appointment_id, status, technician_id in db.execute(
            select(Appointment.id, Appointment.status, Appointment.technician_id).where(
                Appointment.id.in_([driver.appointment_id for driver in driving])
            )
        )
    }
    for driver in driving:
        status, technician_id = rows.get(driver.appointment_id, (None, None))
        if status is None:
            driver.gave_up = "the appointment was deleted"
        elif technician_id != driver.user_id:
            driver.gave_up = "the appointment was reassigned"
        elif status not in DRIVING_TO:
            driver.gave_up = f"the appointment is {status}"
        else:
            driver.en_route = status == "enroute"


def press(
    db: Session,
    driver: Driver,
    action: lc.ActionName,
    *,
    now: datetime,
    texts: TextSettings,
) -> bool:
    """Press a status button as the driver, through the service of
    POST /v1/appointments/<id>/actions/<action>; whether it was done. A refusal (the
    lifecycle's, or a 404 for an appointment gone) makes the driver give up."""
    user = db.get_one(User, driver.user_id)
    principal = Principal(user.id, user.organization_id, uuid.uuid4(), user.name, user.role)
    try:
        appointment_action(db, principal, driver.appointment_id, action, now=now, settings=texts)
    except DomainError as error:
        db.rollback()  # end the transaction: no lock on the job row is kept until next tick
        driver.gave_up = error.message
        return False
    return True


def tick(
    db: Session,
    organization_id: uuid.UUID,
    drivers: list[Driver],
    *,
    now: datetime,
    dt_s: float,
    limits: Limits,
    rng: random.Random,
    texts: TextSettings = DEFAULT_TEXTS,
) -> int:
    """Move every driver still on the road by dt_s and record where they are (one ping
    each, through the locations service), then press On My Way (when the appointment is not
    en route yet) and, on arrival, Start; how many pings were stored."""
    _follow_appointments(db, drivers)
    stored = 0
    for driver in drivers:
        if not driver.driving:
            continue
        speed = rng.uniform(*CITY_SPEED_KMH) / 3.6
        heading = bearing_deg(driver.position, driver.target)
        driver.position = step_toward(driver.position, driver.target, speed, dt_s)
        driver.arrived = driver.position == driver.target
        accuracy = round(rng.uniform(*ACCURACY_M), 1)
        reported = _noisy(driver.position, accuracy, rng)
        ping = {
            "recorded_at": iso_utc(now),
            "lat": reported.lat,
            "lon": reported.lon,
            "accuracy_m": accuracy,
            "speed_mps": 0.0 if driver.arrived else round(speed, 2),
            "heading_deg": round(heading, 1),
        }
        result = ingest_pings(
            db,
            organization_id=organization_id,
            user_id=driver.user_id,
            raw_pings=[ping],
            now=now,
            limits=limits,
        )
        stored += result.stored
        if not driver.en_route:
            driver.en_route = press(db, driver, lc.ActionName.ON_MY_WAY, now=now, texts=texts)
        if driver.arrived and driver.en_route:
            driver.started = press(db, driver, lc.ActionName.START, now=now, texts=texts)
    return stored


def _where(driver: Driver) -> str:
    if driver.started:
        return f"started at {driver.customer_name}"
    if driver.gave_up is not None:
        return f"gave up on {driver.customer_name} ({driver.gave_up})"
    if driver.arrived:
        return f"arrived at {driver.customer_name}"
    return f"{driver.remaining_m / 1000:.2f} km to {driver.customer_name}"


def _status(drivers: list[Driver]) -> str:
    return "; ".join(f"{driver.name}: {_where(driver)}" for driver in drivers)


def drive(
    db: Session,
    organization_id: uuid.UUID,
    *,
    minutes: float,
    interval_s: float,
    limits: Limits,
    clock: Callable[[], datetime] = utcnow,
    wait: Callable[[float], bool],
    report: Callable[[str], None] = print,
    rng: random.Random | None = None,
    texts: TextSettings = DEFAULT_TEXTS,
) -> list[Driver]:
    """Drive until every technician has arrived (or given up), `minutes` have passed, or
    `wait` (which waits up to interval_s) returns True, meaning stop. The first tick records
    the start. `texts` are the settings of the customers' texts (the CLI's config's)."""
    rng = rng or random.Random()
    started = last = clock()
    fresh_for = timedelta(seconds=limits.stale_after_s)
    drivers = find_drivers(db, organization_id, now=started, fresh_for=fresh_for, rng=rng)
    if not drivers:
        report("no technician is en route or scheduled today: nothing to drive")
        return drivers
    deadline = started + timedelta(minutes=minutes)
    now = started
    while True:
        tick(
            db,
            organization_id,
            drivers,
            now=now,
            dt_s=(now - last).total_seconds(),
            limits=limits,
            rng=rng,
            texts=texts,
        )
        last = now
        report(f"{now:%H:%M:%S} {_status(drivers)}")
        if not any(driver.driving for driver in drivers):
            everyone = all(driver.started for driver in drivers)
            report("everyone has arrived" if everyone else "no one is driving any more")
            break
        if wait(interval_s):
            report("stopped")
            break
        now = clock()
        if now >= deadline:
            report(f"{minutes:g} minutes are up")
            break
    return drivers
