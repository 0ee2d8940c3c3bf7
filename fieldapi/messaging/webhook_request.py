"""Reading a Twilio webhook request: size, content type, form, and Twilio's signature.

The form is parsed here rather than by webargs so that nothing about an unsigned request
is acted on, and the signature covers exactly the parameters that were posted.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.datastructures import MultiDict

from fieldapi.errors import BadRequest, Forbidden, PayloadTooLarge, UnsupportedMediaType
from fieldapi.messaging.signing import SIGNATURE_HEADER, is_valid_twilio_request

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 64 * 1024
MAX_WEBHOOK_FIELDS = 200
FORM_TYPE = "application/x-www-form-urlencoded"


def public_url(request: Request, public_base_url: str) -> str:
    """The URL Twilio was given for this endpoint (what it signed), whatever proxy rewrote
    the scheme or host on the way in."""
    url = public_base_url.rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("utf-8", "replace")
    return url


def read_signed_form(
    request: Request, *, public_base_url: str, auth_token: str
) -> MultiDict[str, str]:
    """The posted form of a webhook that Twilio signed; 413/415/400/403 otherwise."""
    too_large = PayloadTooLarge(f"A webhook body is at most {MAX_WEBHOOK_BYTES} bytes.")
    if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
        raise too_large
    if request.mimetype != FORM_TYPE:
        raise UnsupportedMediaType(f"Twilio webhooks are posted as {FORM_TYPE}.")
    raw = request.stream.read(MAX_WEBHOOK_BYTES + 1)
    if len(raw) > MAX_WEBHOOK_BYTES:
        raise too_large
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_WEBHOOK_FIELDS
        )
    except ValueError as error:  # not UTF-8 (UnicodeDecodeError), or too many fields
        raise BadRequest("The body is not a valid form.") from error
    form: MultiDict[str, str] = MultiDict(pairs)
    signature = request.headers.get(SIGNATURE_HEADER)
    url = public_url(request, public_base_url)
    if not auth_token:
        log.warning("webhook refused: TWILIO_AUTH_TOKEN is not set, no signature can be checked")
    if not is_valid_twilio_request(auth_token, url, form, signature):
        log.warning("webhook refused: bad or missing %s for %s", SIGNATURE_HEADER, url)
        raise Forbidden("The request is not signed by Twilio.")
    return form
