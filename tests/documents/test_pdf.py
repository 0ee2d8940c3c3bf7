"""The PDF of a document, read back with pypdf (number, lines, total) and rendered to a
PNG with pdftoppm (var/screenshots/, looked at by hand)."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from fieldapi.jobs.models import Job
from tests.conftest import ApiClient

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_has_the_number_the_lines_tax_and_total(
    create: Callable[..., dict[str, Any]], dispatcher_client: ApiClient, job: Job
) -> None:
    estimate = create(tax_rate_pct=8.25, notes="Parts ordered Monday")
    assert estimate["pdf_url"] == f"/v1/documents/{estimate['id']}.pdf"
    answer = dispatcher_client.get(estimate["pdf_url"])
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.data.startswith(b"%PDF-")
    text = pdf_text(answer.data)
    for expected in (
        "Done Right Home Services",
        "Estimate EST-0001",
        "Maria Lopez",
        "Diagnostic visit",
        "Drain pump",
        "89.00 USD",
        "91.00 USD",
        "Tax (8.25 %)",
        "14.85 USD",
        "194.85 USD",
        "Parts ordered Monday",
    ):
        assert expected in text, expected
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf_path = SCREENSHOTS / "estimate.pdf"
    pdf_path.write_bytes(answer.data)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-singlefile",
            str(pdf_path),
            str(SCREENSHOTS / "estimate"),
        ],
        check=True,
    )
    assert (SCREENSHOTS / "estimate.png").stat().st_size > 5000
