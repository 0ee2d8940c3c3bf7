"""Configuration variables of this capability (documented in the README)."""

from __future__ import annotations

from fieldapi.settings import Setting, SettingError


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise SettingError(f"must be a positive integer, not {raw!r}")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "MAX_PHOTO_BYTES",
        10 * 1024 * 1024,
        _positive_int,
        "largest photo accepted (413 above); the request limit follows it",
    ),
    Setting(
        "PHOTO_DIR",
        None,
        str,
        "where photos are stored (a directory behind a small storage interface); "
        "default `var/photos`",
    ),
    Setting(
        "PHOTO_ORPHAN_GRACE_MINUTES",
        60,
        _positive_int,
        "age (by modification time) a photo file no row points to must reach before the "
        "worker's periodic work deletes it; protects uploads in flight",
    ),
    Setting(
        "SURVEY_URL",
        "https://dispatch.example.com/survey",
        str,
        "the link of the survey text sent when an appointment is completed; "
        "`{job_id}` and `{appointment_id}` in it are filled in",
    ),
    Setting(
        "IDEMPOTENCY_TTL",
        24 * 3600,
        _positive_int,
        "seconds an `Idempotency-Key` is remembered (its first answer is replayed)",
    ),
)
