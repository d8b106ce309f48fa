"""The yearly evaluation report (Art. 41): read or compute it (overseers, before it is published),
draft it, publish it with the center's improvement advice, list the years; the public reads the
published ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import AsParam, Cred, person, staff_only
from api.errors import PROBLEMS
from api.public import LIMITED, rate_limited
from models.requests import Acting, ReportPublishRequest
from service import reports
from service.context import db
from service.report_render import MEDIA

router = APIRouter(prefix="/v1", responses=PROBLEMS)
Year = Annotated[int, Path(ge=2000, le=2100, description="年度")]
Format = Annotated[str, Query(max_length=8, pattern=r"^[a-z]+$", description="html、xlsx 或 json")]


@router.get("/reports/evaluation/{year}", summary="年度评估报告（第四十一条）：已发布的，或草稿、即时统计（限县大数据管理中心、"
            "县大数据发展管理局、县人民政府）", response_class=Response,
            responses={200: {"description": "报告：json、html 或 xlsx", "content": {
                "application/json": {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}},
                MEDIA["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}})
async def evaluation(year: Year, cred: Cred, format: Format = "json", as_: AsParam = None) -> Response:
    actor = (await person(cred, as_, "read")).person()
    body, media = await db(reports.render, actor, year, format)
    headers = {"Content-Disposition": f'attachment; filename="evaluation-{year}.xlsx"'} if format == "xlsx" else None
    return Response(content=body, media_type=media, headers=headers)


@router.post("/reports/evaluation/{year}/draft", summary="起草或刷新年度评估报告草稿（县大数据管理中心，第四十一条）")
async def draft(year: Year, body: Acting, cred: Cred) -> dict[str, Any]:
    return await db(reports.draft, (await staff_only(cred, body.as_)).person(), year)


@router.post("/reports/evaluation/{year}/publish",
             summary="填写基础保障和改进意见后发布年度评估报告；发布后不能更改（县大数据管理中心主要负责人或分管领导，第四十一条）")
async def publish(year: Year, body: ReportPublishRequest, cred: Cred) -> dict[str, Any]:
    actor = (await staff_only(cred, body.as_)).person()
    return await db(reports.publish, actor, year, body.advice, body.basic_guarantee, body.remarks)


@router.get("/reports", summary="各年度评估报告及其状态（第四十一条）")
async def listing(cred: Cred, as_: AsParam = None) -> list[dict[str, Any]]:
    await person(cred, as_, "read")
    return await db(reports.listing)


# The public's routes, limited per client address like every /v1/public/ route (as reads, apart from submissions).
@router.get("/public/reports", summary="已发布的年度评估报告（第四十一条）", dependencies=[Depends(rate_limited("reading", "public-report"))],
            responses=LIMITED)
async def public_listing() -> list[dict[str, Any]]:
    return await db(reports.public_listing)


@router.get("/public/reports/{year}", summary="已发布的年度评估报告全文（HTML，第四十一条）", response_class=HTMLResponse,
            dependencies=[Depends(rate_limited("reading", "public-report"))], responses=LIMITED)
async def public_report(year: Year) -> HTMLResponse:
    return HTMLResponse(await db(reports.public_html, year))
