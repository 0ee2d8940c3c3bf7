"""Answer shapes shared by the views of this capability."""

from __future__ import annotations

import uuid
from typing import Any

from fieldapi.accounts.auth import current_principal
from fieldapi.db import session
from fieldapi.jobs.answers import JobDetail
from fieldapi.jobs.queries import get_job
from fieldapi.pagination import Page


def job_answer(job_id: uuid.UUID) -> JobDetail:
    return get_job(session(), current_principal(), job_id)


def page_answer(page: Page[Any]) -> dict[str, Any]:
    return {"items": page.items, "next_cursor": page.next_cursor}
