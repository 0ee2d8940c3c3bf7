"""A document as a PDF, drawn with fpdf2 (pure Python, no system libraries, a table
API that fits a list of lines, actively released); reportlab would do too but brings
a larger API and C accelerators for a one-page layout."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from fieldapi.documents.models import Document
from fieldapi.documents.money import format_amount


@dataclass(frozen=True)
class Parties:
    organization: str
    customer: str
    customer_address: str | None
    job_title: str


def _latin1(text: str) -> str:
    # The core fonts (Helvetica) cover Latin-1; anything else shows as "?".
    return text.encode("latin-1", "replace").decode("latin-1")


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


def render_pdf(document: Document, parties: Parties) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{document.kind.capitalize()} {document.label}")
    pdf.set_author(_latin1(parties.organization))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(parties.organization), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 14)
    heading = f"{document.kind.capitalize()} {document.label}"
    if document.revision > 1:
        heading += f" (revision {document.revision})"
    pdf.cell(0, 9, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 11)
    when = (document.sent_at or document.created_at).strftime("%Y-%m-%d")
    pdf.cell(
        0, 6, f"Date: {when}    Status: {document.status}", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(3)
    pdf.cell(0, 6, _latin1(f"For: {parties.customer}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if parties.customer_address:
        pdf.cell(0, 6, _latin1(parties.customer_address), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 6, _latin1(f"Job: {parties.job_title}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)
    currency = document.currency
    with pdf.table(
        col_widths=(8, 52, 12, 24, 24),
        text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        first_row_as_headings=True,
    ) as table:
        table.row(("#", "Description", "Qty", "Unit price", "Amount"))
        for line in document.lines:
            table.row(
                (
                    str(line.position),
                    _latin1(line.description),
                    _quantity(line.quantity),
                    format_amount(line.unit_price, currency),
                    format_amount(line.amount, currency),
                )
            )
    pdf.ln(4)
    rate = f"{document.tax_rate_bp / 100:g} %"
    for label, amount in (
        ("Subtotal", document.subtotal),
        (f"Tax ({rate})", document.tax),
        ("Total", document.total),
    ):
        pdf.set_font("Helvetica", "B" if label == "Total" else "", 12)
        pdf.cell(150, 7, label, align="R")
        pdf.cell(
            0, 7, format_amount(amount, currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    if document.notes:
        pdf.ln(5)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, _latin1(document.notes))
    return bytes(pdf.output())
