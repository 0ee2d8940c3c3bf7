"""Configuration variables of this capability (documented in the README)."""

from fieldapi.settings import Setting, at_least, parse_list

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SMS_TRANSPORT",
        "console",
        str,
        "`twilio` sends through Twilio; `console` (development) logs and stores texts",
    ),
    Setting("TWILIO_ACCOUNT_SID", "", str, "Twilio account SID"),
    Setting(
        "TWILIO_AUTH_TOKEN",
        "",
        str,
        "Twilio auth token; also checks the signature of Twilio's webhooks",
    ),
    Setting("TWILIO_FROM", "", str, "the sending number (E.164)"),
    Setting(
        "TWILIO_MESSAGING_SERVICE_SID",
        "",
        str,
        "a messaging service SID, used instead of `TWILIO_FROM` when set",
    ),
    Setting(
        "TWILIO_API_BASE_URL",
        "https://api.twilio.com",
        str,
        "where the Twilio client sends requests; a Twilio-compatible server in tests/staging",
    ),
    Setting(
        "SMS_ALLOWED_REGIONS",
        ["US", "CA"],
        parse_list,
        "ISO regions texts may go to (comma separated)",
    ),
    Setting(
        "TWILIO_TIMEOUT_SECONDS",
        10.0,
        at_least(0.1, float),
        "how long the worker waits for Twilio to accept a text before retrying it later",
    ),
    Setting(
        "SMS_MAX_ATTEMPTS",
        6,
        at_least(1, int),
        "sends of one text before it is marked `failed` (transient errors: 5xx, 429, timeouts)",
    ),
    Setting(
        "SMS_RETRY_BASE_SECONDS",
        5.0,
        at_least(0, float),
        "first retry delay; doubled per attempt, with jitter (a 429's `Retry-After` at least)",
    ),
    Setting("SMS_RETRY_MAX_SECONDS", 900.0, at_least(0, float), "longest delay between retries"),
    Setting(
        "SMS_LEASE_SECONDS",
        60.0,
        at_least(1, float),
        "a worker's hold on the text it is sending; when a worker dies mid-send, another "
        "takes the text over after this long (keep it above `TWILIO_TIMEOUT_SECONDS`)",
    ),
    Setting(
        "WORKER_POLL_SECONDS",
        1.0,
        at_least(0.01, float),
        "how often an idle worker looks for due texts",
    ),
    Setting(
        "WORKER_MAINTENANCE_MINUTES",
        10.0,
        at_least(0, float),
        "how often each worker runs the periodic work (location partitions, old callbacks); "
        "0 turns it off",
    ),
)
