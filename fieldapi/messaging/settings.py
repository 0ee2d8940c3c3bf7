"""Configuration variables of this capability (documented in the README)."""

from fieldapi.settings import Setting, parse_list

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
)
