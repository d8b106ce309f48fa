"""Rectification orders (Art. 46): the center proposes, the county government or 县大数据发展管理局
orders, the department reports, the center checks, the authority accepts or orders again. Through
the API in-process (httpx's ASGI transport), the real worker, the time-skipping Temporal server and
PostgreSQL; ``pdw rectification`` through typer's CliRunner against a served API."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import func, select
from temporalio.testing import WorkflowEnvironment

from activities.store import session
from models.cases import DeadlineMiss, Decision
from models.notices import Notice
from models.rectification import RectificationCase
from service import auth
from tests.helpers import STARTED
from tests.test_api import api, signed  # noqa: F401 - fixtures
from tests.test_commands import apdw, api_url, dev, home, one_error_line  # noqa: F401 - fixtures

CENTER, CENTER_HEAD = "dsj.zhouwei", "dsj.linxiaohong"
COUNTY, BUREAU = "xzf.wuminghui", "dsjj.fangyan"
GAJ, GAJ_HEAD, JYJ = "gaj.zhangfang", "gaj.wanghaitao", "jyj.panxiaoyu"
PEOPLE = [CENTER, CENTER_HEAD, COUNTY, BUREAU, GAJ, GAJ_HEAD, JYJ]


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {p: str(auth.issue_token(None, p, days=30, label="test", by="tests")["token"]) for p in PEOPLE}


class Staff:
    """Requests as one registered person (a personal token)."""

    def __init__(self, client: httpx.AsyncClient, keys: dict[str, str]) -> None:
        self.api, self.keys = client, keys

    async def post(self, who: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.api.post(path, json=body, headers={"Authorization": f"Bearer {self.keys[who]}"})

    async def propose(self, who: str = CENTER, **over: Any) -> httpx.Response:
        return await self.post(who, "/v1/cases/rectification", proposal(**over))

    async def start(self, **over: Any) -> str:
        r = await self.propose(**over)
        assert r.status_code == 201, r.text
        STARTED.append(r.json()["case_id"])
        return str(r.json()["case_id"])

    async def decide(self, who: str, case_id: str, action: str, **body: Any) -> httpx.Response:
        return await self.post(who, f"/v1/cases/{case_id}/decisions", {"action": action, **body})

    async def state(self, case_id: str, status: str, timeout: float = 20) -> dict[str, Any]:
        """The case's state once it has ``status`` and awaits someone (or has closed)."""
        end = asyncio.get_running_loop().time() + timeout
        while True:
            r = await self.api.get(f"/v1/cases/{case_id}", headers={"Authorization": f"Bearer {self.keys[CENTER]}"})
            assert r.status_code == 200, r.text
            state: dict[str, Any] = r.json()["state"]
            if state["status"] == status and (state["awaiting"] or status in ("accepted", "declined")):
                return state
            assert asyncio.get_running_loop().time() < end, f"{case_id} stayed {state['status']}, expected {status}"
            await asyncio.sleep(0.05)


@pytest.fixture
def staff(api: httpx.AsyncClient, keys: dict[str, str]) -> Staff:  # noqa: F811 - the imported fixture
    return Staff(api, keys)


def missed(dept: str) -> str:
    """A missed deadline recorded against ``dept`` (Art. 41, 46): the evidence a proposal cites."""
    case_id = f"catalog-test-{uuid.uuid4().hex[:8]}"
    with session() as s:
        s.add(DeadlineMiss(case_id=case_id, step="catalog_update.submit", dept_code=dept,
                           due_at=datetime(2026, 11, 20, 16, tzinfo=UTC), statutory=True, article="第十一条"))
    return case_id


def proposal(**over: Any) -> dict[str, Any]:
    return {"dept": "gaj", "failings": "一,三", "evidence": "机动车登记信息目录要素变化后逾期未更新",
            "correct": "更新机动车登记信息的目录条目并按更新频度归集", "working_days": 5, **over}


def row(case_id: str) -> RectificationCase:
    with session() as s:
        found = s.get(RectificationCase, case_id)
        assert found is not None
        return found


def count_rows() -> int:
    with session() as s:
        return int(s.exec(select(func.count()).select_from(RectificationCase)).one())


async def test_art46_center_proposes_authority_orders_department_reports_center_checks_authority_accepts(
    staff: Staff, env: WorkflowEnvironment,
) -> None:
    evidence = missed("gaj")
    case_id = await staff.start(evidence_cases=[evidence])
    assert case_id.startswith("rect-")
    state = await staff.state(case_id, "proposed")
    assert state["awaiting"] == ["xzf"] and state["failings_zh"].startswith("（一）未按要求编制或更新公共数据目录")
    assert row(case_id).status == "proposed" and row(case_id).evidence_cases == [evidence]

    ordered = await staff.decide(COUNTY, case_id, "order", reasons="情况属实", data={"working_days": 8})
    assert ordered.status_code == 200 and "责令改正" in ordered.json()["message"], ordered.text
    state = await staff.state(case_id, "correcting")
    assert state["awaiting"] == ["gaj"]
    correct = state["deadlines"]["rectification.correct"]
    assert (correct["working_days"], correct["statutory"], correct["article"]) == (8, False, "第四十六条")
    # Art. 46: the authority accepts only on the center's check.
    early = await staff.decide(COUNTY, case_id, "accept_rectified")
    assert early.status_code == 400 and "核查整改情况后" in early.json()["detail"], early.text
    empty = await staff.decide(GAJ, case_id, "report_rectified", reasons=" ")
    assert empty.status_code == 400 and "整改情况（reasons）不能为空" in empty.json()["detail"]

    reported = await staff.decide(GAJ, case_id, "report", reasons="已更新目录条目并补归集数据")  # the short name
    assert reported.status_code == 200, reported.text
    await staff.state(case_id, "checking")
    no_finding = await staff.decide(CENTER, case_id, "check_rectified", reasons="已核对")
    assert no_finding.status_code == 400 and "data.finding" in no_finding.json()["detail"]
    checked = await staff.decide(CENTER, case_id, "check_rectified", reasons="目录已更新，数据已归集",
                                 data={"finding": "done"})
    assert checked.status_code == 200, checked.text
    await staff.state(case_id, "accepting")
    own = await staff.decide(GAJ_HEAD, case_id, "accept_rectified")  # the department cannot accept its own
    assert own.status_code == 403 and "县人民政府" in own.json()["detail"], own.text
    accepted = await staff.decide(COUNTY, case_id, "accept_rectified", reasons="整改到位")
    assert accepted.status_code == 200, accepted.text

    state = await staff.state(case_id, "accepted")
    assert state["outcome"] == "accepted" and state["outcome_zh"] == "整改验收通过" and state["rounds"] == 1
    done = row(case_id)
    assert (done.status, done.outcome, done.ordered_by, done.rounds, done.working_days) == ("accepted", "accepted", "xzf", 1, 8)
    assert done.ordered_at is not None and done.closed_at is not None
    with session() as s:
        actions = [d.action for d in s.exec(select(Decision).where(Decision.case_id == case_id).order_by(Decision.seq))]
        told = {n.dept_code for n in s.exec(select(Notice).where(Notice.case_id == case_id))}
    assert actions == ["order", "report_rectified", "check_rectified", "accept_rectified"]
    assert {"xzf", "gaj", "dsj"} <= told


async def test_art46_center_cannot_order_nor_department_nor_the_other_authority_and_decline_closes_with_reasons(
    staff: Staff,
) -> None:
    case_id = await staff.start(failings=["七"], authority="xzf")
    await staff.state(case_id, "proposed")
    for who, words in ((CENTER, "县大数据管理中心只提出建议"), (GAJ_HEAD, "县人民政府"), (BUREAU, "县人民政府"),
                       (JYJ, "县人民政府")):
        refused = await staff.decide(who, case_id, "order")
        assert refused.status_code == 403 and words in refused.json()["detail"], (who, refused.text)
    assert (await staff.decide(BUREAU, case_id, "decline", reasons="x")).status_code == 403
    bare = await staff.decide(COUNTY, case_id, "decline_order")
    assert bare.status_code == 400 and "须写明理由（reasons）" in bare.json()["detail"]
    assert (await staff.decide(COUNTY, case_id, "order", data={"working_days": 61})).status_code == 400
    with session() as s:
        assert not s.exec(select(Decision).where(Decision.case_id == case_id)).all()  # nothing written

    declined = await staff.decide(COUNTY, case_id, "decline", reasons="已自行整改，无需责令")
    assert declined.status_code == 200, declined.text
    state = await staff.state(case_id, "declined")
    assert state["outcome"] == "declined" and "已自行整改" in json.dumps(state["timeline"], ensure_ascii=False)
    done = row(case_id)
    assert (done.status, done.outcome, done.ordered_by, done.rounds) == ("declined", "declined", None, 0)
    assert done.closed_at is not None


async def test_art46_reorder_goes_round_again_with_its_reasons_and_days_under_the_ladder(
    staff: Staff, env: WorkflowEnvironment,
) -> None:
    case_id = await staff.start(authority="dsjj", working_days=10)
    await staff.state(case_id, "proposed")
    assert (await staff.decide(COUNTY, case_id, "order")).status_code == 403  # proposed to the bureau, not the county
    by_key = f"/v1/cases/{case_id}/decisions"  # a system's key vouches only for its own department's people
    headers, data = signed("POST", by_key, {"action": "order", "as": BUREAU})  # the erp key: 县教育局 only
    vouched = await staff.api.post(by_key, content=data, headers=headers)
    assert vouched.status_code == 403 and "erp" in vouched.json()["detail"], vouched.text
    assert (await staff.decide(BUREAU, case_id, "order")).status_code == 200
    await staff.state(case_id, "correcting")
    # Only the department ordered reports its correction (Art. 46); another department cannot.
    assert (await staff.decide(JYJ, case_id, "report", reasons="已更新")).status_code == 403
    assert (await staff.decide(CENTER, case_id, "report", reasons="已更新")).status_code == 403
    # Local rule: the center's leaders cancel a case registered in error, not one the authority has ordered.
    cancel = await staff.decide(CENTER_HEAD, case_id, "cancel", reasons="误报")
    assert cancel.status_code == 400 and "县大数据发展管理局已作出决定" in cancel.json()["detail"], cancel.text
    assert (await staff.decide(GAJ, case_id, "report", reasons="已部分更新")).status_code == 200
    await staff.state(case_id, "checking")
    assert (await staff.decide(GAJ, case_id, "check", reasons="x", data={"finding": "done"})).status_code == 403
    assert (await staff.decide(CENTER, case_id, "check", reasons="仍有两项未更新", data={"finding": "not_done"})).status_code == 200
    await staff.state(case_id, "accepting")
    for who in (GAJ, CENTER, COUNTY):  # only the ordering authority orders again
        wrong = await staff.decide(who, case_id, "reorder", reasons="仍有两项未更新")
        assert wrong.status_code == 403, (who, wrong.text)
    bare = await staff.decide(BUREAU, case_id, "reorder")
    assert bare.status_code == 400 and "须写明理由（reasons）" in bare.json()["detail"]
    # Accepting what the center found not done needs the authority's reasons for overriding it.
    overriding = await staff.decide(BUREAU, case_id, "accept")
    assert overriding.status_code == 400 and "不采纳核查结论的理由" in overriding.json()["detail"], overriding.text
    assert any("未整改到位" in f and "仍有两项未更新" in f for f in (await staff.state(case_id, "accepting"))["facts"])
    again = await staff.decide(BUREAU, case_id, "reorder", reasons="仍有两项未更新", data={"working_days": "3"})
    assert again.status_code == 200, again.text

    state = await staff.state(case_id, "correcting")
    assert state["rounds"] == 2 and state["finding"] is None
    assert state["deadlines"]["rectification.correct"]["working_days"] == 3
    assert row(case_id).rounds == 2 and row(case_id).ordered_by == "dsjj"
    with session() as s:
        subjects = [n.subject for n in s.exec(select(Notice).where(Notice.case_id == case_id, Notice.dept_code == "gaj"))]
    assert any("再次责令改正" in subject for subject in subjects), subjects

    # Past the ordered period: the miss is recorded against the department (Art. 41, 46), 催办 reaches its
    # leader in charge and 督办 its first responsible person and the ordering authority's.
    escalate_at = datetime.fromisoformat(state["deadlines"]["rectification.correct"]["escalate_at"])
    await env.sleep(escalate_at - await env.get_current_time() + timedelta(hours=1))
    end = asyncio.get_running_loop().time() + 20
    while True:
        with session() as s:
            rungs = {(n.level, n.dept_code, n.role) for n in s.exec(select(Notice).where(
                Notice.case_id == case_id, Notice.step == "rectification.correct#2"))}
            miss = s.exec(select(DeadlineMiss).where(DeadlineMiss.case_id == case_id)).first()
        if (3, "dsjj", "first_responsible") in rungs or asyncio.get_running_loop().time() > end:
            break
        await asyncio.sleep(0.1)
    assert {(2, "gaj", "leader_in_charge"), (3, "gaj", "first_responsible"), (3, "dsjj", "first_responsible")} <= rungs
    assert miss is not None and (miss.dept_code, miss.statutory, miss.article) == ("gaj", False, "第四十六条")


async def test_art46_the_center_withdraws_its_proposal_before_the_authority_decides(staff: Staff) -> None:
    case_id = await staff.start()
    await staff.state(case_id, "proposed")
    assert (await staff.decide(GAJ, case_id, "withdraw", reasons="x")).status_code == 403  # not the department's
    withdrawn = await staff.decide(CENTER, case_id, "withdraw", reasons="证据有误，重新核实")
    assert withdrawn.status_code == 200, withdrawn.text
    end = asyncio.get_running_loop().time() + 20
    while row(case_id).closed_at is None:
        assert asyncio.get_running_loop().time() < end
        await asyncio.sleep(0.05)
    assert (row(case_id).status, row(case_id).outcome) == ("withdrawn", "withdrawn")


# Who proposes what, and what is refused: (person, fields changed, status, words of the answer).
BAD: list[tuple[str, dict[str, Any], int, str]] = [
    (GAJ, {}, 403, "责令改正建议由县大数据管理中心提出"),
    (COUNTY, {}, 403, "责令改正建议由县大数据管理中心提出"),
    (CENTER, {"failings": "一,九"}, 400, "第四十六条所列情形（failings）“九”无效"),
    (CENTER, {"failings": ""}, 400, "第四十六条所列情形（failings）不能为空"),
    (CENTER, {"evidence": "  "}, 400, "事实和证据（evidence）不能为空"),
    (CENTER, {"correct": ""}, 400, "应当改正的事项（correct）不能为空"),
    (CENTER, {"working_days": 0}, 400, "改正期限（working_days）“0”无效"),
    (CENTER, {"dept": "dsjj"}, 400, "不是公共管理和服务机构"),
    (CENTER, {"dept": "nope"}, 404, "部门代码“nope”不存在"),
    (CENTER, {"authority": "dsj"}, 400, "县大数据管理中心只能提出建议"),
    (CENTER, {"evidence_cases": ["catalog-2099-999999"]}, 400, "证据案件（evidence_cases）“catalog-2099-999999”不在记录中"),
]


async def test_art46_bad_proposals_are_refused_naming_the_field_and_write_nothing(staff: Staff) -> None:
    """A department, the county government: not the center. Unknown failing '九', no evidence, a target
    that is no department, an evidence case of another department: each refused, nothing written."""
    before = count_rows()
    other = missed("jyj")  # a missed deadline of another department
    for who, over, status, words in [*BAD, (CENTER, {"evidence_cases": [other]}, 400, "与县公安局（gaj）无关")]:
        answer = await staff.propose(who, **over)
        assert answer.status_code == status and words in answer.json()["detail"], (who, over, answer.text)
    assert count_rows() == before


async def test_art46_the_public_and_a_system_key_not_bound_to_the_center_cannot_propose(
    api: httpx.AsyncClient,  # noqa: F811 - the imported fixture
) -> None:
    before = count_rows()
    public = await api.post("/v1/cases/rectification", json=proposal())
    assert public.status_code == 401, public.text
    body = {**proposal(), "as": CENTER}
    headers, data = signed("POST", "/v1/cases/rectification", body)  # the erp key is bound to jyj only
    refused = await api.post("/v1/cases/rectification", content=data, headers=headers)
    assert refused.status_code == 403 and "只能代表其绑定部门" in refused.json()["detail"], refused.text
    assert count_rows() == before


async def test_art46_pdw_rectification_propose_and_order_through_the_api(
    dev: dict[str, str | None],  # noqa: F811 - the imported fixture
) -> None:
    bad = await apdw(dev, "rectification", "propose", "--dept", "gaj", "--failing", "九", "--evidence", "e",
                     "--correct", "c", "--days", "5", "--as", CENTER)
    assert one_error_line(bad) == "错误：第四十六条所列情形（failings）“九”无效：应为 一 至 八（第四十六条第一项至第八项）"
    started = await apdw(dev, "rectification", "propose", "--dept", "gaj", "--failing", "二", "--evidence",
                         "未及时归集", "--case", missed("gaj"), "--correct", "归集数据", "--days", "5", "--to", "dsjj",
                         "--as", CENTER, "--json")
    assert started.exit_code == 0, started.stderr
    answer = json.loads(started.stdout)
    case_id = answer["case_id"]
    STARTED.append(case_id)
    assert (answer["authority"], answer["failings"]) == ("dsjj", ["二"])
    wrong = await apdw(dev, "rectification", "order", case_id, "--as", COUNTY)
    assert "县大数据发展管理局" in one_error_line(wrong)
    ordered = await apdw(dev, "rectification", "order", case_id, "--days", "7", "--as", BUREAU)
    assert ordered.exit_code == 0 and ordered.stdout.startswith(f"{case_id}：已记录"), ordered.stderr
    assert row(case_id).authority_code == "dsjj"
    shown = await apdw(dev, "show", case_id, "--as", GAJ)
    assert "方艳（县大数据发展管理局，分管领导）责令改正" in shown.stdout, shown.stdout
    assert "情形：（二）未向公共数据平台及时归集共享数据（第四十六条）" in shown.stdout
