"""Wire formats of estimates and invoices (money: integer minor units of `currency`)."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from fieldapi.documents.models import KINDS, STATUSES
from fieldapi.documents.money import MAX_LINES, MAX_QUANTITY, MAX_TOTAL
from fieldapi.jobs.schemas import ApiPath, Rfc3339, StrictInteger

MINOR_UNITS = {"description": "integer minor units of `currency` (cents for USD)"}


def _at_most_three_decimals(value: float) -> None:
    exponent = Decimal(str(value)).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -3:
        raise ValidationError("At most three decimals.")


def _rate() -> fields.Float:
    return fields.Float(
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "percent, 0 to 100, up to two decimals", "example": 8.25},
    )


class LineInSchema(Schema):
    description = fields.String(required=True, validate=validate.Length(1, 500))
    quantity = fields.Float(
        required=True,
        allow_nan=False,
        validate=[
            validate.Range(min=0, min_inclusive=False, max=int(MAX_QUANTITY)),
            _at_most_three_decimals,
        ],
        metadata={
            "description": "above 0, up to three decimals",
            "example": 2,
            "multipleOf": 0.001,
        },
    )
    unit_price = StrictInteger(
        required=True, validate=validate.Range(min=0, max=MAX_TOTAL), metadata=MINOR_UNITS
    )
    tax_rate_pct = _rate()


class DocumentCreateSchema(Schema):
    lines = fields.List(
        fields.Nested(LineInSchema), required=True, validate=validate.Length(1, MAX_LINES)
    )
    tax_rate_pct = _rate()
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))


class DocumentUpdateSchema(DocumentCreateSchema):
    lines = fields.List(fields.Nested(LineInSchema), validate=validate.Length(1, MAX_LINES))


class LineSchema(Schema):
    """Dumps a `DocumentLine`."""

    position = fields.Integer()
    description = fields.String()
    quantity = fields.Float()
    unit_price = fields.Integer(metadata=MINOR_UNITS)
    tax_rate_pct = fields.Float(allow_none=True)
    amount = fields.Integer(metadata=MINOR_UNITS)
    tax = fields.Integer(metadata=MINOR_UNITS)


class CustomerDecisionSchema(Schema):
    answer = fields.String(metadata={"enum": ["approved", "declined"]})
    at = Rfc3339()


class DecisionSchema(CustomerDecisionSchema):
    address = fields.String(allow_none=True, metadata={"description": "the customer's IP"})
    page = fields.String(allow_none=True, metadata={"description": "the page it was made on"})


class DocumentSchema(Schema):
    """Dumps a `Document`."""

    id = fields.UUID()
    job_id = fields.UUID()
    kind = fields.String(metadata={"enum": list(KINDS)})
    number = fields.String(attribute="label", metadata={"example": "EST-0004"})
    revision = fields.Integer()
    status = fields.String(metadata={"enum": list(STATUSES)})
    currency = fields.String(metadata={"example": "USD"})
    tax_rate_pct = fields.Float()
    lines = fields.List(fields.Nested(LineSchema))
    subtotal = fields.Integer(metadata=MINOR_UNITS)
    tax = fields.Integer(metadata=MINOR_UNITS)
    total = fields.Integer(metadata=MINOR_UNITS)
    notes = fields.String(allow_none=True)
    created_at = Rfc3339()
    sent_at = Rfc3339(allow_none=True)
    paid_at = Rfc3339(allow_none=True)
    voided_at = Rfc3339(allow_none=True)
    decision = fields.Nested(DecisionSchema, attribute="decision_record", allow_none=True)
    replaced_by_id = fields.UUID(allow_none=True)
    pdf_url = ApiPath("/v1/documents/", ".pdf")


class DocumentListSchema(Schema):
    items = fields.List(fields.Nested(DocumentSchema))


class CustomerDocumentSchema(Schema):
    """Dumps a `CustomerDocument` (a document as its customer sees it through the link)."""

    organization = fields.String(attribute="parties.organization")
    customer = fields.String(attribute="parties.customer")
    kind = fields.String(attribute="document.kind", metadata={"enum": list(KINDS)})
    number = fields.String(attribute="document.label")
    revision = fields.Integer(attribute="document.revision")
    status = fields.String(attribute="document.status", metadata={"enum": list(STATUSES)})
    currency = fields.String(attribute="document.currency")
    tax_rate_pct = fields.Float(attribute="document.tax_rate_pct")
    lines = fields.List(fields.Nested(LineSchema), attribute="document.lines")
    subtotal = fields.Integer(attribute="document.subtotal", metadata=MINOR_UNITS)
    tax = fields.Integer(attribute="document.tax", metadata=MINOR_UNITS)
    total = fields.Integer(attribute="document.total", metadata=MINOR_UNITS)
    notes = fields.String(attribute="document.notes", allow_none=True)
    decision = fields.Nested(
        CustomerDecisionSchema, attribute="document.decision_record", allow_none=True
    )
    can_decide = fields.Boolean()
