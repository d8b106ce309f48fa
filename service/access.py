"""The access log (Art. 25, 46 (六)): systems post batches of reads and refresh events; a read outside
any grant opens (or joins) a misuse case for the center (Art. 22); the center, the source and the
reading department query the reads (Art. 25)."""

from __future__ import annotations

from typing import Any

import structlog
from sqlmodel import col, select
from temporalio.service import RPCError, RPCStatusCode

from activities.access import BatchConflict, BatchError, Recorded, Touched, record_reads, record_refreshes
from activities.store import center, get_department, session
from models.access import (
    OFFSET_MAX,
    READS_SIGNAL,
    VERDICT_ZH,
    AccessRead,
    MisuseCase,
    ReadsAdded,
    ReadsBatch,
    RefreshBatch,
)
from models.catalog import CatalogVersion, DataResource
from models.departments import Department
from models.processes import BY_ROUTE
from models.share import Grant
from models.types import utcnow
from service.auth import Principal, oversees, require_key_action
from service.context import Services, db
from service.errors import ServiceError, bad_input, conflict, forbidden, not_found
from service.starts import start_case
from settings import HookKey

log = structlog.get_logger("pdw.service")
ACTION = "access-log"  # what a key's ``actions`` must list: posting the access log is opt-in
PAGE_MAX = 500


def _still_open(case_id: str) -> bool:
    with session() as s:
        row = s.get(MisuseCase, case_id)
        return row is not None and row.closed_at is None


def _center_code() -> str:
    with session() as s:
        return center(s).code


async def require_platform(key_id: str | None, key: HookKey | None, by_person: bool) -> str:
    """Art. 25: the reads are reported by the sharing platform or the open system, which the center
    runs: a signed key bound to the center. A person's token, or a key of another department, is
    refused. Returns the key id (the batch's system)."""
    if by_person or not key_id or key is None:
        raise forbidden("读取记录和数据更新记录须由共享平台或开放系统以签名密钥报送，个人令牌不能报送（第二十五条）")
    if key.actions is None or ACTION not in key.actions:
        # Opt-in: a key made for other work does not post the county's access log by default.
        raise forbidden(f"调用系统“{key_id}”的密钥未在 actions 中列出“{ACTION}”：报送读取记录和数据更新记录须在该密钥的 "
                        f"actions 设置中写明“{ACTION}”（第二十五条）")
    require_key_action(Principal(actor=None, key_id=key_id), key, ACTION)
    the_center = await db(_center_code)
    if the_center not in key.departments:
        bound = "、".join(key.departments) or "（无）"
        raise forbidden(f"调用系统“{key_id}”绑定的部门（{bound}）不含县大数据管理中心：读取记录只能由县大数据管理中心的"
                        "共享平台或开放系统报送（第二十五条）")
    return key_id


def _recorded(fn: Any, *args: Any) -> Any:
    """The store's answer; a bad read or a reused batch id becomes the service's error."""
    try:
        return fn(*args)
    except BatchError as err:
        raise bad_input(str(err), err.field) from err
    except BatchConflict as err:
        raise conflict(str(err)) from err


async def post_reads(services: Services, system: str, batch: ReadsBatch) -> dict[str, Any]:
    """Record a batch once (Art. 25); the misuse cases it opened start, those it added to hear of it."""
    rec: Recorded = await db(_recorded, record_reads, system, batch, utcnow())
    center_code = rec.center_code or await db(_center_code)
    not_told, closed = [], []
    for t in rec.touched:
        try:
            if not await _tell_case(services, t, batch.batch_id, center_code):
                closed.append(t.inp.case_id)
        except (ServiceError, RPCError) as err:  # the reads stand; posting the batch again starts the case
            log.warning("misuse_case_not_told", case_id=t.inp.case_id, error=str(err))
            not_told.append(t.inp.case_id)
    answer = {**rec.answer, "verdicts_zh": {VERDICT_ZH[v]: n for v, n in rec.answer.get("verdicts", {}).items()}}
    messages = []
    if closed:  # posting again would change nothing: the case is over, its reads stand in the log
        answer["closed_cases"] = closed
        messages.append(f"读取记录已保存；滥用核查案件 {'、'.join(closed)} 已办结，这些读取记录留存在读取记录中，"
                        "无需重新报送（第二十五条）")
    if not_told:
        answer["not_started"] = not_told
        messages.append(f"读取记录已保存，但滥用核查案件 {'、'.join(not_told)} 暂未能启动（Temporal 暂时无法连接）："
                        "请稍后以同一批次编号重新报送")
    if messages:
        answer["message"] = "；".join(messages)
    return answer


async def _tell_case(services: Services, t: Touched, batch_id: str, center_code: str) -> bool:
    """Start a new case; tell an open one of the bad reads this batch added (Art. 22, 25). False when
    the case closed meanwhile (its reads stand in the log)."""
    if t.new:
        await _start(services, t, center_code)
    if not t.count:
        return True
    added = ReadsAdded(batch_id=batch_id, count=t.count, total=t.total, verdicts=t.verdicts)
    handle = (await services.temporal()).get_workflow_handle(t.inp.case_id)
    try:
        await handle.signal(READS_SIGNAL, added)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        if not await db(_still_open, t.inp.case_id):
            return False  # a case closed meanwhile is not opened again: its reads stand in the log
        # Opened by a batch at the same moment whose start has not reached Temporal yet: start it here.
        await _start(services, t, center_code)
        await handle.signal(READS_SIGNAL, added)
    return True


def _names(grantee: str, resource_id: str) -> tuple[str, str]:
    """The department's and the resource's names, for the case's title (staff read names, not codes)."""
    with session() as s:
        dept = s.get(Department, grantee)
        resource = s.exec(select(CatalogVersion.name).where(CatalogVersion.resource_id == resource_id,
                                                            col(CatalogVersion.is_current))).first()
        return (dept.name if dept else grantee, resource or resource_id)


async def _start(services: Services, t: Touched, center_code: str) -> None:
    inp = t.inp
    grantee, resource = await db(_names, inp.grantee_code, inp.resource_id)
    what = f"数据滥用核查：{grantee}读取“{resource}”（{inp.resource_id}）无授权或超出授权范围"
    await start_case(services, BY_ROUTE["misuse"], inp, case_id=inp.case_id, awaiting=center_code,
                     departments={center_code, inp.grantee_code, inp.source_code}, summary=what,
                     details="共享数据只能用于本部门履行职责需要，一经发现滥用将立即取消数据共享（第二十二条）；"
                             "由县大数据管理中心核查认定（confirm 或 dismiss，须写明理由）")


async def post_refreshes(services: Services, system: str, batch: RefreshBatch) -> dict[str, Any]:
    """Art. 19: the sources' refresh events, for the freshness check."""
    return await db(_recorded, record_refreshes, system, batch, utcnow())  # type: ignore[no-any-return]


# ---- who read what (Art. 25) ------------------------------------------------------------------------


def list_reads(principal: Principal, resource: str | None, grant: int | None, dept: str | None, limit: int,
               offset: int) -> dict[str, Any]:
    """Reads by one of resource, grant or department, newest first, paged. The center (and those who
    oversee it) sees all; a source the reads of its own data and under the grants it gives (Art. 25);
    a department its own reads."""
    actor = principal.person()
    if sum(x is not None for x in (resource, grant, dept)) != 1:
        raise bad_input("须且只能指定一个条件：resource（数据资源）、grant（共享授权）或 dept（使用部门）（第二十五条）")
    if not 1 <= limit <= PAGE_MAX:
        raise bad_input(f"每页条数（limit）须为 1 至 {PAGE_MAX}", "limit")
    if not 0 <= offset <= OFFSET_MAX:
        raise bad_input(f"跳过条数（offset）须为 0 至 {OFFSET_MAX}：更早的记录请按数据资源、授权或部门缩小查询（第二十五条）",
                        "offset")
    q = select(AccessRead)
    with session() as s:
        if resource is not None:
            row = s.get(DataResource, resource)
            if row is None:
                raise not_found(f"数据资源“{resource}”不在目录中（pdw catalog list 查看）")
            allowed = [row.owner_code]
            q = q.where(AccessRead.resource_id == resource)
        elif grant is not None:
            g = s.get(Grant, grant)
            if g is None:
                raise not_found(f"共享授权“{grant}”不存在（pdw grant list --all 查看）")
            allowed = [g.source_code, g.grantee_code]
            q = q.where(AccessRead.grant_id == grant)
        else:
            assert dept is not None
            get_department(s, dept)
            allowed = [dept]
            q = q.where(AccessRead.reader_dept == dept)
        if not oversees(actor) and actor.dept_code not in allowed:
            raise forbidden(f"{actor.label()}无权查看这些读取记录：数源部门可查询其数据被谁读取，使用部门可查询本部门的"
                            "读取记录，其余由县大数据管理中心查询（第二十五条）")
        rows = s.exec(q.order_by(col(AccessRead.read_at).desc(), col(AccessRead.id).desc())
                      .offset(offset).limit(limit + 1)).all()
        names = {d.code: d.name for d in s.exec(select(Department)).all()}
    more = len(rows) > limit
    def reader(r: AccessRead) -> str:  # no department: a citizen or company under an application (Art. 28)
        return names.get(r.reader_dept, r.reader_dept) if r.reader_dept else f"受限开放申请人 {r.reader_person or ''}".strip()

    return {"reads": [{**r.model_dump(mode="json"), "reader_dept_name": reader(r),
                       "verdict_zh": VERDICT_ZH.get(r.verdict, r.verdict)} for r in rows[:limit]],
            "next_offset": offset + limit if more else None}
