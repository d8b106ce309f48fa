"""The yearly evaluation report (Art. 41) as staff and the public reach it: who may read a draft
(the center, 县大数据发展管理局, the county government: not the departments evaluated), drafting on
demand, publishing with the center's improvement advice (then frozen), the list, the public copy."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from activities.calendar import SHANGHAI
from activities.evaluation import draft as draft_year
from activities.evaluation import save_draft
from activities.evaluation_figures import compute
from activities.store import session
from models.departments import Actor
from models.evaluation import FIGURES, REPORT_STATUS_ZH, EvaluationFigures, EvaluationReport, ReportTexts
from models.types import utcnow
from service import report_render
from service.admin import audit
from service.auth import oversees, require_admin
from service.errors import bad_input, conflict, forbidden, not_found

MAX_TEXT = 20000  # characters of each text the center writes


def require_reader(actor: Actor, year: int) -> None:
    """A report not yet published is read by the overseers only: the departments it evaluates
    read it once the center publishes it (Art. 41)."""
    if not oversees(actor):
        raise forbidden(f"{actor.label()}无权查看{year}年度评估报告草稿：未发布的评估报告只有县大数据管理中心、"
                        "县大数据发展管理局和县人民政府可以查看，发布后各部门和公众均可查看（第四十一条）")


def this_year() -> int:
    return utcnow().astimezone(SHANGHAI).year


def require_begun(year: int) -> None:
    """A year not yet begun has nothing to evaluate, and a report once published never changes."""
    if year > this_year():
        raise bad_input(f"年度（year）{year} 尚未开始：只能统计已开始的年度（第四十一条）", "year")


def require_ended(year: int) -> None:
    """Art. 41: the report evaluates a whole year; published, it never changes: only a year that has ended."""
    if year >= this_year():
        raise bad_input(f"{year}年度尚未结束：年度评估报告在该年度结束后发布，发布后不能更改；年度中可用 "
                        "pdw report evaluation 查看即时统计（第四十一条）", "year")


def _texts(row: EvaluationReport | None) -> ReportTexts:
    if row is None:
        return ReportTexts()
    return ReportTexts(basic_guarantee=row.basic_guarantee, remarks=row.remarks, advice=row.advice)


def view(actor: Actor, year: int) -> tuple[EvaluationFigures, ReportTexts, str, str | None]:
    """The year's figures, texts, status and (published) frozen html: the published report for
    anyone with a credential, else the draft or a fresh computation for the overseers."""
    with session() as s:
        row = s.get(EvaluationReport, year)
    if row is not None and row.status == "published":
        return EvaluationFigures.model_validate(row.figures), _texts(row), row.status, row.html
    require_reader(actor, year)
    require_begun(year)
    if row is not None and row.figures:
        figures = EvaluationFigures.model_validate(row.figures)
        if _current(figures):  # a draft kept before the figures changed is computed afresh
            return figures, _texts(row), row.status, None
    return compute(year), _texts(None), "computed", None


def _current(figures: EvaluationFigures) -> bool:
    """Whether a kept draft has exactly the figures the report now shows (FIGURES)."""
    return all(set(d.parts.get(part, {})) == set(labels) for d in figures.departments for part, labels in FIGURES.items())


def render(actor: Actor, year: int, fmt: str) -> tuple[bytes, str]:
    """The report in ``fmt`` (html, xlsx, json) with its media type."""
    if fmt not in report_render.FORMATS:
        raise bad_input(f"格式（format）“{fmt}”无效：可选 html、xlsx、json", "format")
    figures, texts, status, html = view(actor, year)
    return _encode(figures, texts, status, html, fmt), report_render.MEDIA[fmt]


def _encode(figures: EvaluationFigures, texts: ReportTexts, status: str, html: str | None, fmt: str) -> bytes:
    if fmt == "html":
        return (html or report_render.render_html(figures, texts, status)).encode()
    if fmt == "xlsx":
        return report_render.render_xlsx(figures, texts, status)
    return json.dumps(report_render.render_json(figures, texts, status), ensure_ascii=False).encode()


def draft(actor: Actor, year: int) -> dict[str, Any]:
    """``pdw report draft``: the center drafts (or refreshes) the year's report now."""
    require_admin(actor, "report.draft")  # any of the center's people (Art. 41)
    require_begun(year)
    result = draft_year(year)
    if not result.refreshed:
        raise conflict(f"{year}年度评估报告已发布，不能重新起草：已发布的评估报告不能更改（第四十一条）")
    audit(actor, f"evaluation-{year}", "evaluation_drafted", {"year": year})
    return {"year": year, "status": result.status, "status_zh": REPORT_STATUS_ZH[result.status],
            "message": f"已起草{year}年度评估报告：" + (
                f"{year}年度结束后，" if year >= this_year() else "") + "填写基础保障和改进意见，由中心主要负责人或分管领导用 "
                       "pdw report publish 发布（第四十一条）"}


def _text(value: str | None, field: str, label: str) -> str | None:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise bad_input(f"{label}（{field}）不能超过 {MAX_TEXT} 字", field)
    return text or None


def publish(actor: Actor, year: int, advice: str | None, basic_guarantee: str | None,
            remarks: str | None) -> dict[str, Any]:
    """Publish the year's report with the center's improvement advice (Art. 41): the figures and
    the html are frozen as published; a published report is never changed."""
    require_admin(actor, "report.publish")  # the center's leaders: public and permanent once published
    require_ended(year)
    advice_text = _text(advice, "advice", "改进意见")
    if advice_text is None:
        raise bad_input("改进意见（advice）不能为空：第四十一条要求评估报告提出改进意见，请用 --advice-file 提供", "advice")
    basic_text = _text(basic_guarantee, "basic_guarantee", "基础保障")
    if basic_text is None:  # one of Art. 41's five parts, and the one pdw cannot count: the center writes it
        raise bad_input("基础保障（basic_guarantee）不能为空：第四十一条规定评估报告包括基础保障情况，"
                        "请用 --basic-file 提供", "basic_guarantee")
    texts = ReportTexts(advice=advice_text, basic_guarantee=basic_text, remarks=_text(remarks, "remarks", "备注"))
    with session() as s:
        row = s.get(EvaluationReport, year, with_for_update=True)
        if row is not None and row.status == "published":
            raise conflict(_published_zh(row))
        if row is None or not row.figures or not _current(EvaluationFigures.model_validate(row.figures)):
            save_draft(s, compute(year))
            row = s.get(EvaluationReport, year, with_for_update=True)
        assert row is not None
        figures = EvaluationFigures.model_validate(row.figures)
        if not any(f.value for d in figures.departments for part in d.parts.values() for f in part.values()):
            # A year before pdw kept records: published, an empty report could never be replaced.
            raise bad_input(f"{year}年度在本系统中没有任何记录（各项数字均为 0）：不能发布空的评估报告，"
                            "发布后不能更改（第四十一条）", "year")
        row.status, row.published_at, row.published_by = "published", utcnow(), actor.person_id
        row.advice, row.basic_guarantee, row.remarks = texts.advice, texts.basic_guarantee, texts.remarks
        row.html = report_render.render_html(figures, texts, "published")
        s.add(row)
    audit(actor, f"evaluation-{year}", "evaluation_published", {"year": year})
    return {"year": year, "status": "published", "status_zh": REPORT_STATUS_ZH["published"],
            "message": f"{year}年度评估报告已发布，公众可在 /v1/public/reports/{year} 查看（第四十一条）"}


def _published_zh(row: EvaluationReport) -> str:
    when = row.published_at.astimezone(SHANGHAI).date().isoformat() if row.published_at else ""
    return f"{row.year}年度评估报告已于 {when} 发布：已发布的评估报告不能更改或再次发布（第四十一条）"


def listing() -> list[dict[str, Any]]:
    """Every year's report and where it stands."""
    with session() as s:
        rows = s.exec(select(EvaluationReport).order_by(col(EvaluationReport.year).desc())).all()
    return [{"year": r.year, "status": r.status, "status_zh": REPORT_STATUS_ZH.get(r.status, r.status),
             "drafted_at": r.drafted_at.isoformat(), "published_at": r.published_at.isoformat() if r.published_at else None,
             "published_by": r.published_by} for r in rows]


def public_listing() -> list[dict[str, Any]]:
    """The published reports only (Art. 41: published every year)."""
    return [{k: r[k] for k in ("year", "status_zh", "published_at")} | {"url": f"/v1/public/reports/{r['year']}"}
            for r in listing() if r["status"] == "published"]


def public_html(year: int) -> str:
    with session() as s:
        row = s.get(EvaluationReport, year)
    if row is None or row.status != "published" or row.html is None:
        raise not_found(f"{year}年度评估报告尚未发布（第四十一条）")
    return row.html
