"""Proposing a rectification order (Art. 46): the center proposes that the county government or
县大数据发展管理局 order a department to correct a failing. Everything is checked before anything is
written; the case then runs the order, the correction, the center's check and the acceptance."""

from __future__ import annotations

from typing import Any

from activities.rectification import check_proposal
from models.departments import Actor
from models.processes import BY_ROUTE
from models.rectification import (
    FAILINGS,
    MAX_DAYS,
    MIN_DAYS,
    RectificationInput,
    RectificationRequest,
    failing_zh,
    split_failings,
)
from service.context import Services, db
from service.errors import bad_input, forbidden
from service.starts import chosen_id, start_case


def proposal_failings(req: RectificationRequest) -> list[str]:
    """Art. 46 (一)–(八), each once, in the article's order."""
    given = split_failings(req.failings)
    if not given:
        raise bad_input("第四十六条所列情形（failings）不能为空：须写明 一 至 八 中的一项或多项（第四十六条）", "failings")
    for code in given:
        if code not in FAILINGS:
            raise bad_input(f"第四十六条所列情形（failings）“{code[:20]}”无效：应为 一 至 八（第四十六条第一项至第八项）",
                            "failings")
    return [code for code in FAILINGS if code in given]


def check_texts(req: RectificationRequest) -> None:
    if not req.evidence.strip():
        raise bad_input("事实和证据（evidence）不能为空：须写明该部门有第四十六条所列情形的事实（第四十六条）", "evidence")
    if not req.correct.strip():
        raise bad_input("应当改正的事项（correct）不能为空：须写明责令改正的内容（第四十六条）", "correct")
    if not MIN_DAYS <= req.working_days <= MAX_DAYS:
        raise bad_input(f"改正期限（working_days）“{req.working_days}”无效：须为 {MIN_DAYS} 至 {MAX_DAYS} 个工作日"
                        "（本地规定，第四十六条）", "working_days")


async def start_rectification(
    services: Services, actor: Actor, req: RectificationRequest, given_id: str | None = None
) -> dict[str, Any]:
    """Art. 4, 46: only the center proposes (it supervises and sees the failings first); the
    authority it names orders, never the center itself."""
    process = BY_ROUTE["rectification"]
    if actor.dept_kind != "center":
        raise forbidden(f"{actor.label()}无权提出：责令改正建议由县大数据管理中心提出，由县人民政府或县大数据发展管理局"
                        "责令改正（第四条、第四十六条）")
    failings = proposal_failings(req)
    check_texts(req)
    evidence_cases = list(dict.fromkeys(c.strip() for c in req.evidence_cases if c.strip()))
    dept, authority = await db(check_proposal, req.dept, req.authority, evidence_cases)
    case_id = await chosen_id(process, given_id)
    inp = RectificationInput(case_id=case_id, dept_code=dept.code, failings=failings, evidence=req.evidence.strip(),
                             evidence_cases=evidence_cases, correct=req.correct.strip(), working_days=req.working_days,
                             authority_code=authority.code, proposed_by=actor)
    await start_case(
        services, process, inp, case_id=case_id, awaiting=authority.code,
        departments={dept.code, actor.dept_code, authority.code},
        summary=f"责令改正建议 {dept.name}（报{authority.name}）",
        details=f"情形：{'；'.join(failing_zh(code) for code in failings)}；应当改正：{inp.correct}（第四十六条）",
    )
    return {"case_id": case_id, "dept": dept.code, "authority": authority.code, "failings": failings}
