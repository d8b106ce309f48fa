"""The yearly evaluation report's draft (Art. 41): the figures computed from the records and kept
as the year's draft, refreshed by every run until the center publishes it; a published report is
never touched again. Used by the ``EvaluationDraft`` workflow and by ``pdw report draft``."""

from __future__ import annotations

import asyncio

import structlog
from sqlmodel import Session
from temporalio import activity

from activities.evaluation_figures import compute
from activities.store import center, insert_ignore, session
from models.evaluation import DraftResult, EvaluationFigures, EvaluationReport
from models.types import utcnow

log = structlog.get_logger("pdw.evaluation")


def save_draft(s: Session, figures: EvaluationFigures) -> DraftResult:
    """Keep ``figures`` as the year's draft; a published year is left as published (Art. 41)."""
    year = figures.year
    insert_ignore(s, EvaluationReport, {"year": year, "status": "draft", "figures": {}}, ["year"])
    row = s.get(EvaluationReport, year, with_for_update=True)
    assert row is not None
    center_code = center(s).code
    if row.status == "published":
        log.info("evaluation_draft_skipped_published", year=year)
        return DraftResult(year=year, status=row.status, refreshed=False, center_code=center_code)
    row.figures, row.drafted_at = figures.model_dump(mode="json"), utcnow()
    s.add(row)
    log.info("evaluation_drafted", year=year, departments=len(figures.departments))
    return DraftResult(year=year, status="draft", refreshed=True, center_code=center_code)


def draft(year: int) -> DraftResult:
    """Compute the year's figures and keep them as its draft: the one computation the API also serves."""
    figures = compute(year)
    with session() as s:
        return save_draft(s, figures)


@activity.defn
async def draft_evaluation_report(year: int) -> DraftResult:
    """Idempotent: a retry computes and writes the same draft again."""
    return await asyncio.to_thread(draft, year)
