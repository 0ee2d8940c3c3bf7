"""Configuration variables of the enterprise side (documented in the README)."""

from fieldapi.settings import Setting, parse_bool

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES",
        False,
        parse_bool,
        "allow enterprise webhook URLs that resolve to loopback, private or link-local "
        "addresses (refused at save and at send otherwise, against server-side request "
        "forgery); for local testing only",
    ),
    Setting(
        "WEBHOOK_TIMEOUT_SECONDS",
        10.0,
        float,
        "how long the worker waits for an enterprise's receiver (connect and each read) "
        "before the attempt counts as failed and is retried",
    ),
    Setting("WEBHOOK_MAX_ATTEMPTS", 8, int, "attempts per webhook delivery before it is `failed`"),
    Setting(
        "WEBHOOK_RETRY_BASE_SECONDS",
        10.0,
        float,
        "first retry delay of a webhook delivery; doubles per attempt, with jitter",
    ),
    Setting("WEBHOOK_RETRY_MAX_SECONDS", 3600.0, float, "longest delay between two attempts"),
    Setting(
        "WEBHOOK_POLL_SECONDS",
        1.0,
        float,
        "how often an idle worker looks for due webhook deliveries (apart from "
        "WORKER_POLL_SECONDS, which paces the texts)",
    ),
    Setting(
        "WEBHOOK_LEASE_SECONDS",
        60.0,
        float,
        "a worker holds a delivery this long; after, another worker may send it again "
        "(keep it above WEBHOOK_TIMEOUT_SECONDS)",
    ),
)
