"""Configuration variables of this capability (documented in the README)."""

from __future__ import annotations

from fieldapi.settings import Setting, at_least

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "MAX_PHOTO_BYTES",
        10 * 1024 * 1024,
        at_least(1, int),
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
        at_least(1, int),
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
        at_least(1, int),
        "seconds an `Idempotency-Key` is remembered (its first answer is replayed)",
    ),
)
