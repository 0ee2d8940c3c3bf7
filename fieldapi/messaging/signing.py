"""Twilio request signatures (`X-Twilio-Signature`), computed and checked by twilio's own code.

The one place both the local Twilio-compatible server (which signs the callbacks it sends)
and the webhooks (which check them) go through, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio sends for a form POST of `params` to the full `url`.

    `params` may be a multi-dict (Flask's `request.form`): every value is signed.
    """
    signature: str = RequestValidator(auth_token).compute_signature(url, params)
    return signature


def is_valid_twilio_request(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """Whether `signature` is Twilio's signature of `params` posted to `url` (full URL).

    False when the token or the signature is missing, never an exception.
    """
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))
