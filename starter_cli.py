"""``pdw``: staff start and decide cases, and look things up (DESIGN.md, Interfaces).

Output is for people by default and JSON with ``--json``; exit 0 on success, otherwise a one-line
Chinese reason on stderr and a non-zero exit. Heavy imports happen inside commands.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import typer

app = typer.Typer(help="pdw：永嘉县公共数据共享开放流程（Temporal 工作流）。", no_args_is_help=True,
                  pretty_exceptions_enable=False)
calendar_app = typer.Typer(help="工作日日历：期限计算、县级调整、载入全年安排。", no_args_is_help=True)
catalog_app = typer.Typer(help="数据资源目录（第十条）。", no_args_is_help=True)
catalog_update_app = typer.Typer(help="目录更新案件（第十一条）。", no_args_is_help=True)
dept_app = typer.Typer(help="部门及其备案人员（第四十三条）。", no_args_is_help=True)
share_app = typer.Typer(help="数据共享申请（第十三条至第二十二条）。", no_args_is_help=True)
dispute_app = typer.Typer(help="争议协调（第二十条第二款、第二十八条第三款）。", no_args_is_help=True)
grant_app = typer.Typer(help="共享授权（第二十二条）。", no_args_is_help=True)
correction_app = typer.Typer(help="数据纠错校核（第二十三条）。", no_args_is_help=True)
notices_app = typer.Typer(help="通知：发件箱、送达情况、领导日报。", no_args_is_help=True)
open_app = typer.Typer(help="公共数据开放：受限开放申请（第二十八条至第三十一条）、开放目录申请与复核（第三十二条）。",
                       no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
app.add_typer(catalog_app, name="catalog")
app.add_typer(catalog_update_app, name="catalog-update")
app.add_typer(dept_app, name="dept")
app.add_typer(share_app, name="share")
app.add_typer(dispute_app, name="dispute")
app.add_typer(grant_app, name="grant")
app.add_typer(correction_app, name="correction")
app.add_typer(open_app, name="open")
app.add_typer(notices_app, name="notices")

JSON_OPT = typer.Option(False, "--json", help="以 JSON 输出")
AS_OPT = typer.Option(None, "--as", help="操作人：已备案人员编号（或设置 PDW_ACTOR）")


class CliError(Exception):
    """A reason for staff, printed on one line to stderr."""


def fail(message: str) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(1)


def emit(data: Any, as_json: bool, text: str) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(text)


def run(coro: Any) -> Any:
    """Run a coroutine, turning store and Temporal errors into one Chinese line for staff."""
    from temporalio.service import RPCError

    from activities.store import StoreError

    try:
        return asyncio.run(coro)
    except (StoreError, CliError) as err:
        fail(str(err))
    except RPCError as err:
        fail(_rpc_reason("", err))
    except RuntimeError as err:
        if "connect" in str(err).lower():
            fail(f"无法连接 Temporal 服务 {settings().temporal_address}：请先运行 make dev 或设置 PDW_TEMPORAL_ADDRESS")
        raise


def settings() -> Any:
    from settings import get_settings

    return get_settings()


def actor_id(value: str | None) -> str:
    person = value or settings().actor
    if not person:
        raise CliError("须用 --as 指明操作人（已备案人员编号），或设置环境变量 PDW_ACTOR")
    return person


def read_input(source: str | None) -> dict[str, Any]:
    """JSON from a file or ``-`` (stdin), so any script or hook can drive a command."""
    if source is None:
        return {}
    try:
        raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        data = json.loads(raw)
    except (OSError, json.JSONDecodeError) as err:
        raise CliError(f"--input 无法读取为 JSON：{err}") from err
    if not isinstance(data, dict):
        raise CliError("--input 须为 JSON 对象")
    return data


def parse_moment(value: str, field: str) -> datetime:
    """A date (taken as the start of that day in Asia/Shanghai) or an ISO datetime."""
    from activities.calendar import SHANGHAI, start_of_day

    try:
        if len(value) == 10:
            return start_of_day(date.fromisoformat(value))
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise CliError(f"{field}“{value}”格式错误，应为 YYYY-MM-DD 或 ISO 时间") from err
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


_clients: dict[Any, Any] = {}


async def client() -> Any:
    from worker import connect

    loop = asyncio.get_running_loop()
    if loop in _clients:
        return _clients[loop]
    try:
        _clients[loop] = await connect(settings())
        return _clients[loop]
    except RuntimeError as err:
        raise CliError(
            f"无法连接 Temporal 服务 {settings().temporal_address}：请先运行 make dev 或设置 PDW_TEMPORAL_ADDRESS"
        ) from err


# ---- the stack ---------------------------------------------------------------------------------------


@app.command()
def dev() -> None:
    """在前台运行整套开发环境：Temporal 开发服务器与界面、数据库（迁移并载入示例县）、worker。Ctrl-C 停止。"""
    import devstack

    devstack.main()


@app.command()
def hook() -> None:
    """运行 HTTP 接口（PDW_HOOK_HOST:PDW_HOOK_PORT），供其他系统签名调用；OpenAPI 文档在 /docs。例：PDW_HOOK_KEYS='{"erp": "密钥"}' pdw hook"""
    import hook as http_hook

    http_hook.serve()


@app.command()
def setup(seed: bool = typer.Option(False, "--seed", help="同时写入示例县的部门、人员和目录"), as_json: bool = JSON_OPT) -> None:
    """迁移数据库、注册搜索属性、建立领导日报计划任务（可重复运行），用于已有集群。例：pdw setup --seed"""
    import devstack
    from activities.migrate import upgrade

    upgrade()
    async def register() -> list[str]:
        return await devstack.register_search_attributes(await client(), settings().namespace)

    added = run(register())
    run(_ensure_digest_schedule())
    result: dict[str, Any] = {"migrated": True, "search_attributes_added": added, "digest_schedule": True}
    text = f"数据库已迁移到最新；搜索属性新注册 {len(added)} 个；领导日报计划任务已就绪"
    if seed:
        from activities.seed import seed_demo_county

        depts, entries = seed_demo_county()
        result["seed"] = {"departments": depts, "entries": entries}
        text += f"\n示例县：{depts} 个部门，{entries} 条目录"
    emit(result, as_json, text)


# ---- catalog update (Art. 10–12) -----------------------------------------------------------------


@catalog_update_app.command("start")
def catalog_update_start(
    resource: str | None = typer.Option(None, "--resource", help="数据资源编号，如 RES-JYJ-001"),
    note: str | None = typer.Option(None, "--note", help="哪项要素发生了什么变化"),
    changed_at: str | None = typer.Option(None, "--changed-at", help="要素变化的日期或时间，默认现在"),
    element: list[str] = typer.Option([], "--element", help="发生变化的要素，可重复：name、content……"),
    as_: str | None = AS_OPT,
    input_: str | None = typer.Option(None, "--input", help="从 JSON 文件（- 为标准输入）读取以上各项"),
    as_json: bool = JSON_OPT,
) -> None:
    """登记一项目录更新：数据资源要素变化后，数源部门须在 5 个工作日内更新目录（第十一条）。

    例：pdw catalog-update start --resource RES-JYJ-001 --note "在校生数口径调整" --element content --as jyj.panxiaoyu
    """
    data = read_input(input_) if input_ else {}
    fields = {
        "resource_id": resource or data.get("resource_id") or data.get("resource"),
        "change_note": note or data.get("change_note") or data.get("note"),
        "changed_at": changed_at or data.get("changed_at"),
        "changed_elements": element or data.get("changed_elements", []),
        "as": as_ or data.get("as"),
    }
    result = run(start_catalog_update(fields))
    emit(result, as_json, f"{result['case_id']}\n已登记目录更新，期限由工作流计算；查看：pdw show {result['case_id']}")


async def start_catalog_update(fields: dict[str, Any]) -> dict[str, Any]:
    """Check everything against the store first (nothing is written on bad input), then start."""
    from sqlmodel import select

    from activities.catalog import get_resource
    from activities.store import get_department, resolve_actor, session
    from models.catalog import ELEMENT_ZH, CatalogUpdateCase, CatalogUpdateInput
    from models.types import utcnow

    if not fields.get("resource_id"):
        raise CliError("缺少 --resource：须指明发生变化的数据资源编号（第十一条）")
    if not (fields.get("change_note") or "").strip():
        raise CliError("缺少 --note：须说明哪项要素发生了什么变化（第十一条）")
    bad = [e for e in fields["changed_elements"] if e not in ELEMENT_ZH]
    if bad:
        raise CliError(f"--element“{bad[0]}”不是目录基本要素，应为：{'、'.join(ELEMENT_ZH)}（第十条）")
    actor = resolve_actor(actor_id(fields.get("as")))
    with session() as s:
        resource = get_resource(s, fields["resource_id"])
        owner = get_department(s, resource.owner_code)
    if actor.dept_code != owner.code and actor.dept_kind != "center":
        raise CliError(
            f"操作人（--as）{actor.label()}无权登记：目录更新由数源部门{owner.name}或县大数据管理中心登记（第十一条）"
        )
    with session() as s:
        running = s.exec(select(CatalogUpdateCase.case_id).where(
            CatalogUpdateCase.resource_id == resource.id, CatalogUpdateCase.closed_at.is_(None))).first()
    changed = parse_moment(fields["changed_at"], "--changed-at") if fields.get("changed_at") else utcnow()
    if changed > utcnow():
        raise CliError("--changed-at 不能晚于现在：期限从要素实际变化的次日起算（第十一条）")
    c = await client()
    if running and await is_running(c, running):
        raise CliError(f"数据资源 {resource.id} 已有进行中的目录更新案件 {running}：请在该案件中提交更新（第十一条）")
    case_id = fields.get("case_id") or new_case_id("catalog")  # the hook allocates its own first
    inp = CatalogUpdateInput(
        case_id=case_id,
        resource_id=resource.id,
        changed_at=changed,
        change_note=(fields["change_note"] or "").strip(),
        changed_elements=list(fields["changed_elements"]),
        started_by=actor,
    )
    await start_case(
        c, "CatalogUpdate", inp, case_id=case_id, case_type="catalog_update", awaiting=owner.code,
        departments={owner.code, actor.dept_code},
        summary=f"目录更新 {resource.id}（{owner.name}）",
        details=f"{actor.label()}登记：{inp.change_note}。依据第十一条，数源部门须在要素变化后 5 个工作日内更新目录。",
    )
    return {"case_id": case_id, "resource_id": resource.id, "owner": owner.code}


async def is_running(c: Any, case_id: str) -> bool:
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError

    try:
        return (await c.get_workflow_handle(case_id).describe()).status == WorkflowExecutionStatus.RUNNING
    except RPCError:
        return False


async def deliver(notice_ids: list[int]) -> None:
    """Hand written notices to their delivery workflows (email, webhook)."""
    from activities.notices import start_deliveries

    if notice_ids:
        await start_deliveries(await client(), notice_ids, settings().task_queue)


async def _ensure_digest_schedule() -> None:
    import devstack

    await devstack.ensure_digest_schedule(await client(), settings())


def new_case_id(process: str) -> str:
    from activities.calendar import SHANGHAI
    from activities.store import next_case_id

    return next_case_id(process, datetime.now(SHANGHAI).year)


async def start_case(
    c: Any, workflow_name: str, inp: Any, *, case_id: str, case_type: str, awaiting: str,
    departments: set[str], summary: str, details: str,
) -> None:
    """Start a case with its summary and the search attributes supervisors look for (DESIGN.md §6)."""


    from temporalio.exceptions import WorkflowAlreadyStartedError
    from temporalio.service import RPCError

    try:
        await _start(c, workflow_name, inp, case_id, case_type, awaiting, departments, summary, details)
    except (RPCError, WorkflowAlreadyStartedError) as err:
        raise CliError(f"Temporal 未能开始案件 {case_id}：{err}（先运行 pdw setup 注册搜索属性？）") from err


async def _start(
    c: Any, workflow_name: str, inp: Any, case_id: str, case_type: str, awaiting: str, departments: set[str],
    summary: str, details: str,
) -> None:
    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    from models import search

    await c.start_workflow(
        workflow_name,
        inp,
        id=case_id,
        task_queue=settings().task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(search.CASE_TYPE, case_type),
                SearchAttributePair(search.STATUS, "opening"),
                SearchAttributePair(search.DEPARTMENTS, sorted(departments)),
                *([SearchAttributePair(search.AWAITING, awaiting)] if awaiting else []),
            ]
        ),
        static_summary=summary,
        static_details=details,
    )


# ---- share approval (Art. 13–22), disputes (Art. 20 ¶2, Art. 28 ¶3), grants (Art. 22) -----------------


@share_app.command("request")
def share_request(
    resource: str | None = typer.Option(None, "--resource", help="数据资源编号"),
    item: list[str] = typer.Option([], "--item", help="申请的数据项，可重复"),
    purpose: str | None = typer.Option(None, "--purpose", help="共享用途"),
    scope: str | None = typer.Option(None, "--scope", help="使用范围"),
    mode: str | None = typer.Option(None, "--mode", help="共享方式：verification（核验）、query（查询）、batch（批量）"),
    months: int | None = typer.Option(None, "--months", help="需要使用的月数（1–60）"),
    as_: str | None = AS_OPT,
    input_: str | None = typer.Option(None, "--input", help="从 JSON 文件（- 为标准输入）读取以上各项"),
    as_json: bool = JSON_OPT,
) -> None:
    """使用部门提出数据共享申请（第十三条、第二十条）。

    例：pdw share request --resource RES-SCJGJ-001 --item 统一社会信用代码 --item 名称 --purpose "企业开办审批核验" --scope "本局行政审批科" --mode query --months 12 --as gaj.zhangfang
    """
    data = read_input(input_) if input_ else {}
    fields = {
        "resource_id": resource or data.get("resource_id") or data.get("resource"),
        "items": item or data.get("items", []),
        "purpose": purpose if purpose is not None else data.get("purpose", ""),
        "scope": scope if scope is not None else data.get("scope", ""),
        "mode": mode or data.get("mode", ""),
        "months": months if months is not None else data.get("months", 12),
        "as": as_ or data.get("as"),
    }
    result = run(start_share_request(fields))
    emit(result, as_json, f"{result['case_id']}\n已提出共享申请；查看：pdw show {result['case_id']}")


async def start_share_request(fields: dict[str, Any]) -> dict[str, Any]:
    from activities.share import check_share_request
    from activities.store import resolve_actor, session
    from models.share import ShareRequestInput

    if not fields.get("resource_id"):
        raise CliError("缺少 --resource：须指明申请的数据资源编号（第二十条）")
    try:
        months = int(fields["months"])
    except (TypeError, ValueError) as err:
        raise CliError(f"--months“{fields['months']}”须为整数") from err
    actor = resolve_actor(actor_id(fields.get("as")))
    items = [i.strip() for i in fields["items"] if i.strip()]
    with session() as s:
        resource, entry, source = check_share_request(
            s, resource_id=fields["resource_id"], items=items, purpose=fields["purpose"] or "",
            scope=fields["scope"] or "", mode=fields["mode"], months=months, requester=actor,
        )
    c = await client()
    case_id = fields.get("case_id") or new_case_id("share")  # the hook allocates its own first
    inp = ShareRequestInput(case_id=case_id, resource_id=resource.id, items=items, purpose=(fields["purpose"] or "").strip(),
                            scope=(fields["scope"] or "").strip(), mode=fields["mode"], months=months, requested_by=actor)
    await start_case(
        c, "ShareApproval", inp, case_id=case_id, case_type="share", awaiting=source.code,
        departments={actor.dept_code, source.code},
        summary=f"共享申请 {resource.id} {entry.name}（{actor.dept_name} → {source.name}）",
        details=f"用途：{inp.purpose}；范围：{inp.scope}；数据项：{'、'.join(items)}（第二十条）",
    )
    return {"case_id": case_id, "resource_id": resource.id, "source": source.code}


@dispute_app.command("open")
def dispute_open(
    case: str | None = typer.Option(None, "--case", help="被拒绝的共享申请案件编号（第二十条第二款）"),
    resource: str | None = typer.Option(None, "--resource", help="开放属性有争议的数据资源（第二十八条第三款）"),
    open_attribute: str | None = typer.Option(None, "--open-attribute", help="中心建议的开放属性"),
    reason: str | None = typer.Option(None, "--reason", help="争议理由"),
    as_: str | None = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """申请协调：对被拒绝的共享申请（--case），或中心与数源部门对开放属性意见不一（--resource）。

    例：pdw dispute open --case share-2026-000001 --reason "用于法定职责，已说明依据" --as gaj.zhangfang\n
    例：pdw dispute open --resource RES-SCJGJ-002 --open-attribute unconditional --reason "…" --as dsj.zhouwei
    """
    if bool(case) == bool(resource):
        fail("须且只能指定 --case（共享争议）或 --resource（开放属性争议）之一")
    if case:
        result = run(_decide(case, "dispute", actor_id(as_), reason, None, {}))
        emit(result, as_json, f"{case}：{result['message']}；协调案件编号 dispute-{case}")
        return
    result = run(start_open_attribute_dispute(resource or "", open_attribute or "", reason or "", actor_id(as_)))
    emit(result, as_json, f"{result['case_id']}\n已报请专家委员会提出意见、县人民政府决定（第二十八条第三款）")


async def start_open_attribute_dispute(
    resource_id: str, proposed: str, claim: str, person: str, case_id: str | None = None
) -> dict[str, Any]:
    from activities.catalog import current_version, get_resource
    from activities.store import resolve_actor, session
    from models.catalog import OPEN_ATTRIBUTES
    from models.dispute import OPEN_ATTRIBUTE, DisputeInput

    actor = resolve_actor(person)
    if actor.dept_kind != "center":
        raise CliError(f"操作人（--as）{actor.label()}无权申请：开放属性争议由县大数据管理中心提出（第二十八条第三款）")
    if proposed not in OPEN_ATTRIBUTES:
        choices = "、".join(f"{k}（{v}）" for k, v in OPEN_ATTRIBUTES.items())
        raise CliError(f"--open-attribute“{proposed}”无效，应为：{choices}（第二十八条）")
    if not claim.strip():
        raise CliError("--reason 不能为空：须写明中心的修改建议及理由（第二十八条第三款）")
    with session() as s:
        resource = get_resource(s, resource_id)
        if current_version(s, resource.id).open_attribute == proposed:
            raise CliError(f"数据资源 {resource.id} 的开放属性已是{OPEN_ATTRIBUTES[proposed]}，无争议")
    c = await client()
    case_id = case_id or new_case_id("dispute")
    inp = DisputeInput(case_id=case_id, kind=OPEN_ATTRIBUTE, resource_id=resource.id, raised_by=actor,
                       parties=[actor.dept_code, resource.owner_code], claim=claim.strip(),
                       proposed_open_attribute=proposed)
    await start_case(
        c, "Dispute", inp, case_id=case_id, case_type="dispute", awaiting="", departments=set(inp.parties),
        summary=f"开放属性争议 {resource.id}（建议{OPEN_ATTRIBUTES[proposed]}）",
        details=f"{actor.label()}：{inp.claim}（第二十八条第三款）",
    )
    return {"case_id": case_id, "resource_id": resource.id}


@grant_app.command("list")
def grant_list(
    dept: str | None = typer.Option(None, "--dept", help="部门代码（使用或数源）"),
    resource: str | None = typer.Option(None, "--resource", help="数据资源编号"),
    all_: bool = typer.Option(False, "--all", help="包括已撤销和已到期的授权"),
    as_json: bool = JSON_OPT,
) -> None:
    """共享授权：谁、哪些数据项、什么用途、何种方式、起止时间（第二十条、第二十二条）。例：pdw grant list --dept jyj"""
    from activities.share import list_grants
    from models.share import SHARE_MODES

    grants = list_grants(dept, resource, active_only=not all_)
    lines = [
        f"{g.id:>4}  {g.resource_id:<14} {g.source_code} → {g.grantee_code}  {'、'.join(g.items)}  "
        f"{SHARE_MODES.get(g.mode, g.mode)}{'（脱敏）' if g.desensitised else ''}  "
        f"{g.valid_from:%Y-%m-%d} 至 {g.valid_until:%Y-%m-%d}"
        + (f"  已撤销：{g.revoke_reason}" if g.revoked_at else "") + f"  {g.case_id}"
        for g in grants
    ]
    emit([g.model_dump(mode="json") for g in grants], as_json, "\n".join(lines) or "（无有效的共享授权）")


@grant_app.command("revoke")
def grant_revoke(
    grant_id: int = typer.Argument(..., help="授权编号"),
    reason: str = typer.Option("", "--reason", help="滥用或违规使用的情形"),
    as_: str | None = AS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """县大数据管理中心因滥用、非授权使用等立即撤销共享授权（第二十二条）。例：pdw grant revoke 3 --reason "将共享数据对外提供" --as dsj.zhouwei"""
    from activities.share import revoke_grant
    from activities.store import StoreError, resolve_actor

    try:
        grant, notices = revoke_grant(grant_id, resolve_actor(actor_id(as_)), reason)
    except (StoreError, CliError) as err:
        fail(str(err))
    emit(grant.model_dump(mode="json"), as_json,
         f"共享授权 {grant.id} 已撤销（{grant.grantee_code}，{grant.resource_id}）：{grant.revoke_reason}")
    # If Temporal is down now, the notices stay pending: pdw notices retry (or the daily digest) sends them.
    run(deliver(notices))


@correction_app.command("report")
def correction_report(
    resource: str | None = typer.Option(None, "--resource", help="数据资源编号"),
    item: list[str] = typer.Option([], "--item", help="有疑义或错误的数据项，可重复"),
    found: str | None = typer.Option(None, "--found", help="发现的问题"),
    expected: str | None = typer.Option(None, "--expected", help="认为正确的数据"),
    evidence: str | None = typer.Option(None, "--evidence", help="证明材料"),
    proof: bool = typer.Option(False, "--proof-provided", help="办事人已提供合法有效证明材料（第二十三条第二款）"),
    as_: str | None = AS_OPT,
    input_: str | None = typer.Option(None, "--input", help="从 JSON 文件（- 为标准输入）读取以上各项"),
    as_json: bool = JSON_OPT,
) -> None:
    """使用部门对共享数据有疑义或发现错误，经县大数据管理中心反馈数源部门（第二十三条）。

    例：pdw correction report --resource RES-SCJGJ-001 --item 住所 --found "住所仍为旧址" --expected "瓯北街道新址" --evidence "营业执照副本" --proof-provided --as gaj.zhangfang
    """
    data = read_input(input_) if input_ else {}
    fields = {
        "resource_id": resource or data.get("resource_id") or data.get("resource"),
        "items": item or data.get("items", []),
        "found": found if found is not None else data.get("found", ""),
        "expected": expected if expected is not None else data.get("expected", ""),
        "evidence": evidence if evidence is not None else data.get("evidence", ""),
        "proof_provided": proof or bool(data.get("proof_provided", False)),
        "as": as_ or data.get("as"),
    }
    result = run(start_correction(fields))
    emit(result, as_json, f"{result['case_id']}\n已反馈，待县大数据管理中心转交数源部门；查看：pdw show {result['case_id']}")


async def start_correction(fields: dict[str, Any]) -> dict[str, Any]:
    from activities.correction import check_correction_report
    from activities.store import resolve_actor, session
    from models.correction import PROCEED_NOTICE, CorrectionInput

    if not fields.get("resource_id"):
        raise CliError("缺少 --resource：须指明有疑义的数据资源编号（第二十三条）")
    actor = resolve_actor(actor_id(fields.get("as")))
    items = [i.strip() for i in fields["items"] if i.strip()]
    with session() as s:
        resource, source = check_correction_report(s, resource_id=fields["resource_id"], items=items,
                                                   found=fields["found"] or "", expected=fields["expected"] or "",
                                                   reporter=actor)
    c = await client()
    case_id = fields.get("case_id") or new_case_id("correction")  # the hook allocates its own first
    inp = CorrectionInput(case_id=case_id, resource_id=resource.id, items=items, found=(fields["found"] or "").strip(),
                          expected=(fields["expected"] or "").strip(), evidence=(fields["evidence"] or "").strip(),
                          proof_provided=fields["proof_provided"], reported_by=actor)
    await start_case(
        c, "DataCorrection", inp, case_id=case_id, case_type="correction", awaiting="",
        departments={actor.dept_code, source.code},
        summary=f"数据纠错 {resource.id}（{actor.dept_name} → {source.name}）",
        details=f"数据项：{'、'.join(items)}；问题：{inp.found}" + (f"。{PROCEED_NOTICE}" if inp.proof_provided else ""),
    )
    return {"case_id": case_id, "resource_id": resource.id, "source": source.code}


@open_app.command("apply")
def open_apply(
    resource: str = typer.Option(..., "--resource", help="数据资源编号"),
    name: str = typer.Option("", "--name", help="申请人（公民、法人或其他组织）名称"),
    id_type: str = typer.Option("resident_id", "--id-type", help="resident_id、passport、uscc、other"),
    id_number: str = typer.Option("", "--id-number", help="证件号码（只存于数据库，不写入日志和工作流）"),
    contact: str = typer.Option("", "--contact", help="联系方式"),
    scope: str = typer.Option("", "--scope", help="使用范围"),
    purpose: str = typer.Option("", "--purpose", help="使用用途"),
    access_way: str = typer.Option("download", "--access-way", help="download（下载）、api（接口）、algorithm（算法模型）"),
    as_json: bool = JSON_OPT,
) -> None:
    """公民、法人或其他组织申请开放数据（第二十八条第二款、第三十一条）。

    例：pdw open apply --resource RES-MZJ-001 --name 张三 --id-number 330324199001011234 --contact 13905770000 --scope 学术研究 --purpose "研究救助政策" --access-way api
    """
    result = run(start_open_application(resource, name, id_type, id_number, contact, scope, purpose, access_way))
    emit(result, as_json, f"{result['case_id']}\n已受理开放申请（{result['applicant']}）；查看：pdw show {result['case_id']}")


async def start_open_application(
    resource: str, name: str, id_type: str, id_number: str, contact: str, scope: str, purpose: str, access_way: str,
    case_id: str | None = None,
) -> dict[str, Any]:
    from activities.open_data import register_open_application
    from models.open_data import OpenApplyInput

    c = await client()
    case_id = case_id or new_case_id("open")
    label = register_open_application(case_id, resource_id=resource, name=name, id_type=id_type, id_number=id_number,
                                      contact=contact, scope=scope, purpose=purpose, access_way=access_way)
    inp = OpenApplyInput(case_id=case_id, resource_id=resource, applicant_label=label, scope=scope.strip(),
                         purpose=purpose.strip(), access_way=access_way)
    await start_case(c, "RestrictedOpenReview", inp, case_id=case_id, case_type="open_review", awaiting="",
                     departments=set(), summary=f"开放申请 {resource}（{label}）",
                     details=f"使用范围：{inp.scope}；用途：{inp.purpose}（第二十八条）")
    return {"case_id": case_id, "resource_id": resource, "applicant": label}


@open_app.command("request")
def open_request(
    resource: str = typer.Option(..., "--resource", help="尚未列入开放目录的数据资源"),
    name: str = typer.Option("", "--name", help="申请人名称"),
    contact: str = typer.Option("", "--contact", help="联系方式"),
    as_json: bool = JSON_OPT,
) -> None:
    """公众申请尚未列入开放目录的数据；申请达到次数（PDW_OPEN_REQUEST_THRESHOLD）即转数源部门审核（第三十二条）。例：pdw open request --resource RES-WJJ-002 --name 赵六 --contact 13800000001"""
    result = run(_open_request(resource, name, contact))
    text = (f"已登记，该数据待审核的公众申请 {result['count']} 次" if not result["case_id"]
            else f"{result['case_id']}\n该数据已转数源部门审核（第三十二条）")
    emit(result, as_json, text)


async def _open_request(resource: str, name: str, contact: str) -> dict[str, Any]:
    from activities.open_data import begin_listing_review, record_open_request, undo_listing_review
    from models.open_data import ListingReviewInput

    count, review = record_open_request(resource, name, contact)
    if review or count < settings().open_request_threshold:
        return {"resource_id": resource, "count": count, "case_id": review}
    c = await client()
    case_id = new_case_id("listing")
    if not begin_listing_review(resource, case_id, count):  # another request started it meanwhile
        return {"resource_id": resource, "count": count, "case_id": None}
    try:
        await start_case(c, "OpenListingReview", ListingReviewInput(case_id=case_id, resource_id=resource,
                                                                    request_count=count),
                         case_id=case_id, case_type="open_listing", awaiting="", departments=set(),
                         summary=f"开放目录申请 {resource}（公众申请 {count} 次）",
                         details="公众申请频次高但尚未列入开放目录，转数源部门审核（第三十二条）")
    except CliError:
        undo_listing_review(case_id)
        raise
    return {"resource_id": resource, "count": count, "case_id": case_id}


@open_app.command("object")
def open_object(
    case_id: str = typer.Argument(..., help="开放目录审核案件编号"),
    name: str = typer.Option("", "--name", help="申请人名称"),
    id_type: str = typer.Option("resident_id", "--id-type"),
    id_number: str = typer.Option("", "--id-number", help="证件号码"),
    contact: str = typer.Option("", "--contact", help="联系方式"),
    reason: str = typer.Option("", "--reason", help="对数源部门答复的异议"),
    as_json: bool = JSON_OPT,
) -> None:
    """对数源部门的答复有异议，向县大数据管理中心申请复核；中心 3 个工作日内反馈（第三十二条）。例：pdw open object listing-2026-000001 --name 赵六 --id-number … --contact … --reason 可汇总后开放"""
    result = run(_open_object(case_id, name, id_type, id_number, contact, reason))
    emit(result, as_json, f"{case_id}：已提出复核申请，县大数据管理中心应于3个工作日内反馈（第三十二条）")


async def _open_object(case_id: str, name: str, id_type: str, id_number: str, contact: str, reason: str) -> dict[str, Any]:
    from activities.open_data import record_objector
    from models.departments import Actor
    from models.open_data import masked

    if not (name.strip() and id_number.strip() and contact.strip()):
        raise CliError("须写明申请人名称（--name）、证件号码（--id-number）和联系方式（--contact）（第三十二条）")
    public = Actor(person_id="public", name=masked(name, id_type, id_number), dept_code="public", dept_name="公众",
                   dept_kind="public")
    outcome = await _send_decision(case_id, "object", public, reason, None, {})
    record_objector(case_id, name, contact, reason)
    return outcome


@notices_app.command("list")
def notices_list(
    case: str | None = typer.Option(None, "--case", help="案件编号"),
    failed: bool = typer.Option(False, "--failed", help="只列送达失败的"),
    limit: int = typer.Option(50, "--limit", help="最多列出几条"),
    as_json: bool = JSON_OPT,
) -> None:
    """发件箱：什么通知、发给谁、何时、经哪个渠道、结果如何。例：pdw notices list --failed"""
    from sqlmodel import select

    from activities.calendar import SHANGHAI
    from activities.store import session
    from models.notices import Notice

    q = select(Notice).order_by(Notice.id.desc()).limit(limit)  # type: ignore[union-attr]
    if case:
        q = q.where(Notice.case_id == case)
    if failed:
        q = q.where(Notice.status == "failed")
    with session() as s:
        rows = s.exec(q).all()
    status_zh = {"sent": "已送达", "pending": "待送达", "failed": "失败"}
    lines = [
        f"{n.id:>5}  {n.created_at.astimezone(SHANGHAI):%m-%d %H:%M}  {n.case_id}  {n.subject}  → {n.person_name}"
        f"（{n.channel}{'：' + n.address if n.address else ''}）{status_zh.get(n.status, n.status)}"
        + (f"，已试 {n.attempts} 次：{n.error}" if n.error else "")
        for n in rows
    ]
    emit([n.model_dump(mode="json", exclude={"body"}) for n in rows], as_json, "\n".join(lines) or "（没有通知）")


@notices_app.command("retry")
def notices_retry(
    older_than: int = typer.Option(5, "--older-than", help="待送达超过几分钟的通知"), as_json: bool = JSON_OPT,
) -> None:
    """重新投递仍待送达的通知（如撤销授权时 Temporal 暂不可用）。每日日报时也会自动执行。例：pdw notices retry"""

    async def retry() -> int:
        from activities.notices import resend_pending

        return await resend_pending(await client(), settings().task_queue, older_than)

    count = run(retry())
    emit({"restarted": count}, as_json, f"已重新投递 {count} 条待送达通知")


@notices_app.command("digest")
def notices_digest(force: bool = typer.Option(False, "--force", help="非工作日也发送"), as_json: bool = JSON_OPT) -> None:
    """立即发送领导逾期案件日报（平时由 Temporal Schedule 每个工作日发送）。例：pdw notices digest --force"""

    async def send() -> int:
        from activities.calendar import SHANGHAI
        from activities.notices import send_digest

        return await send_digest(await client(), datetime.now(SHANGHAI).date(), settings().task_queue, force=force)

    sent = run(send())
    emit({"notices": sent}, as_json, f"日报已发送：{sent} 条通知")


# ---- where cases stand (Temporal visibility) ------------------------------------------------------


async def list_cases(query: str) -> list[dict[str, Any]]:
    """Cases matching a visibility query, soonest due first."""
    from models import search

    found = []
    async for wf in (await client()).list_workflows(query):
        sa = wf.typed_search_attributes
        found.append({
            "case_id": wf.id, "case_type": sa.get(search.CASE_TYPE), "status": sa.get(search.STATUS),
            "awaiting": sa.get(search.AWAITING), "due_at": sa.get(search.DUE_AT),
            "escalation": sa.get(search.ESCALATION) or 0, "provisional": bool(sa.get(search.PROVISIONAL_DUE)),
        })
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda c: (c["due_at"] or far, c["case_id"]))


def case_lines(cases: list[dict[str, Any]], names: dict[str, str]) -> list[str]:
    from activities.calendar import SHANGHAI
    from activities.notices import CASE_TYPE_ZH
    from models.cases import LEVEL_ZH

    lines = []
    for c in cases:
        # due_at is 24:00 of the last working day: show that day.
        due = f"{c['due_at'].astimezone(SHANGHAI) - timedelta(seconds=1):%Y-%m-%d}" if c["due_at"] else "—"
        lines.append(
            f"{c['case_id']:<24} {CASE_TYPE_ZH.get(c['case_type'] or '', c['case_type'] or ''):<8} "
            f"等待 {names.get(c['awaiting'] or '', c['awaiting'] or '—'):<12} "
            f"期限 {due}{'（暂定）' if c['provisional'] else ''} {LEVEL_ZH.get(c['escalation'], '')}".rstrip()
        )
    return lines


def dept_names() -> dict[str, str]:
    from sqlmodel import select

    from activities.store import session
    from models.departments import Department

    with session() as s:
        return {d.code: d.name for d in s.exec(select(Department)).all()}


@app.command()
def inbox(dept: str = typer.Option(..., "--dept", help="部门代码"), as_json: bool = JSON_OPT) -> None:
    """等待某部门办理的案件，期限最近的在前。例：pdw inbox --dept jyj"""
    names = dept_names()
    if dept not in names:
        fail(f"部门代码“{dept}”不存在（pdw dept list 查看）")
    cases = run(list_cases(f"PdwAwaiting = '{dept}' AND ExecutionStatus = 'Running'"))
    emit(cases, as_json, "\n".join(case_lines(cases, names)) or f"{names[dept]}目前没有待办案件")


@app.command()
def overdue(as_json: bool = JSON_OPT) -> None:
    """全县已预警、到期或逾期的案件，按部门列出（第四十一条、第四十六条）。例：pdw overdue"""
    names = dept_names()
    cases = run(list_cases("PdwEscalation >= 1 AND ExecutionStatus = 'Running'"))
    lines: list[str] = []
    for code in sorted({c["awaiting"] or "" for c in cases}):
        mine = [c for c in cases if (c["awaiting"] or "") == code]
        lines += [f"{names.get(code, code or '（无）')}：{len(mine)} 件", *("  " + line for line in case_lines(mine, names))]
    emit(cases, as_json, "\n".join(lines) or "没有临近或超过期限的案件")


@app.command()
def stuck(
    idle_days: int = typer.Option(10, "--idle-days", help="多少天没有任何进展算停滞"),
    as_json: bool = JSON_OPT,
) -> None:
    """卡住的案件：工作流任务反复失败（TemporalReportedProblems），或多日没有进展。例：pdw stuck --idle-days 5"""
    names = dept_names()
    cases = run(_stuck(idle_days))
    lines = [f"{line}  {c['why']}" for line, c in zip(case_lines(cases, names), cases, strict=True)]
    emit(cases, as_json, "\n".join(lines) or "没有卡住的案件")


async def _stuck(idle_days: int) -> list[dict[str, Any]]:
    from models.types import utcnow

    failing = await list_cases("TemporalReportedProblems IS NOT NULL AND ExecutionStatus = 'Running'")
    for c in failing:
        c["why"] = "工作流任务反复失败，请查看 Temporal 界面中的错误"
    seen = {c["case_id"] for c in failing}
    c_ = await client()
    gate = asyncio.Semaphore(8)

    async def idle_for(c: dict[str, Any]) -> dict[str, Any] | None:
        async with gate:
            try:
                state = await c_.get_workflow_handle(c["case_id"]).query("state", rpc_timeout=timedelta(seconds=10))
            except Exception:  # noqa: BLE001 - a case that cannot answer is stuck too
                return {**c, "why": "查询无应答"}
        last = max((datetime.fromisoformat(e["at"]) for e in state.get("timeline", [])), default=None)
        if last and utcnow() - last > timedelta(days=idle_days):
            return {**c, "why": f"{(utcnow() - last).days} 天没有进展"}
        return None

    running = [c for c in await list_cases("ExecutionStatus = 'Running' AND PdwCaseType IS NOT NULL")
               if c["case_id"] not in seen]
    idle = [c for c in await asyncio.gather(*(idle_for(c) for c in running)) if c]
    return failing + idle


# ---- deciding and looking at cases ---------------------------------------------------------------


@app.command()
def decide(
    case_id: str = typer.Argument(..., help="案件编号"),
    action: str = typer.Argument(..., help="操作：submit、approve、return……"),
    as_: str | None = AS_OPT,
    reason: str | None = typer.Option(None, "--reason", help="理由"),
    basis: str | None = typer.Option(None, "--basis", help="依据"),
    set_: list[str] = typer.Option([], "--set", help="数据项 KEY=VALUE，可重复（如提交目录要素）"),
    input_: str | None = typer.Option(None, "--input", help="数据项 JSON 文件（- 为标准输入）"),
    as_json: bool = JSON_OPT,
) -> None:
    """在案件中作出决定。

    例：pdw decide catalog-2026-000001 approve --as dsj.zhouwei\n
    例：pdw decide catalog-2026-000001 return --as dsj.zhouwei --reason "编码格式与实际不符"
    """
    data = read_input(input_)
    for item in set_:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--set“{item}”格式错误，应为 KEY=VALUE")
        data[key] = value
    result = run(_decide(case_id, action, actor_id(as_), reason, basis, data))
    emit(result, as_json, f"{result['case_id']}：{result['message']}")


async def _decide(
    case_id: str, action: str, person: str, reason: str | None, basis: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    from activities.store import resolve_actor

    return await _send_decision(case_id, action, resolve_actor(person), reason, basis, data)


async def _send_decision(
    case_id: str, action: str, actor: Any, reason: str | None, basis: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
    from temporalio.service import RPCError

    from models.cases import DecisionInput

    handle = (await client()).get_workflow_handle(case_id)
    decision = DecisionInput(action=action, actor=actor, reasons=reason, basis=basis, data=data)
    try:
        outcome = await handle.execute_update("decide", decision, rpc_timeout=timedelta(seconds=30))
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise CliError(f"案件“{case_id}”暂时无法办理：没有 worker 响应（make dev 或 pdw-worker）") from err
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        while getattr(cause, "cause", None) is not None:  # the innermost failure says why
            cause = cause.cause
        raise CliError(getattr(cause, "message", None) or str(cause)) from err
    except RPCError as err:
        raise CliError(_rpc_reason(case_id, err)) from err
    return outcome


def _rpc_reason(case_id: str, err: Exception) -> str:
    from temporalio.service import RPCError, RPCStatusCode

    if case_id and "already completed" in str(err).lower():
        return f"案件“{case_id}”已办结，不能再作决定"
    if case_id and isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND:
        return f"案件“{case_id}”不存在"
    return f"Temporal 拒绝了请求：{err}"


@app.command()
def show(case_id: str = typer.Argument(..., help="案件编号"), as_json: bool = JSON_OPT) -> None:
    """案件的全过程：当前环节、期限、决定、通知、时间线。例：pdw show share-2026-000001 --json"""
    story = run(_show(case_id))
    emit(story, as_json, render_story(story))


async def _show(case_id: str) -> dict[str, Any]:
    from sqlmodel import select
    from temporalio.service import RPCError, RPCStatusCode

    from activities.store import session
    from models.cases import Decision
    from models.notices import Notice

    handle = (await client()).get_workflow_handle(case_id)
    try:
        desc = await handle.describe()
        state = await handle.query("state", rpc_timeout=timedelta(seconds=15))
    except RPCError as err:
        if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
            raise CliError(f"案件“{case_id}”暂时无法查询：没有 worker 在运行（make dev 或 pdw-worker）") from err
        raise CliError(_rpc_reason(case_id, err)) from err
    with session() as s:
        decisions = s.exec(select(Decision).where(Decision.case_id == case_id).order_by(Decision.seq)).all()
        notices = s.exec(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)).all()
    return {
        "case_id": case_id,
        "workflow_status": desc.status.name if desc.status else None,
        "summary": await desc.static_summary(),
        "state": state,
        "decisions": [d.model_dump(mode="json") for d in decisions],
        "notices": [n.model_dump(mode="json", exclude={"body", "address", "error"}) for n in notices],
    }


def render_story(story: dict[str, Any]) -> str:
    from activities.calendar import SHANGHAI
    from models.cases import ACTION_ZH
    from models.departments import ROLE_ZH
    from models.steps import STEP_RULES

    def step_zh(step: str) -> str:
        return STEP_RULES[step].zh if step in STEP_RULES else step

    def when(value: str) -> str:
        return datetime.fromisoformat(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")

    st = story["state"]
    lines = [f"{story['case_id']}  {story['summary'] or ''}", f"状态：{st['status_zh']}（{st['status']}）"]
    lines += st.get("facts", [])
    if st.get("awaiting"):
        lines.append(f"等待：{'、'.join(st['parties'].get(c, c) for c in st['awaiting'])}（依据{st.get('article')}）")
    for step, d in st.get("deadlines", {}).items():
        kind = "法定" if d["statutory"] else "本地默认"
        provisional = "，暂定" if d["provisional"] else ""
        lines.append(f"期限 {step_zh(step)}：{d['due_date']} 24时（{d['article']}，{kind}{provisional}）")
    if st.get("escalation"):
        lines.append(f"催督办级别：{['', '预警', '催办', '督办'][st['escalation']]}")
    if st.get("approved_version"):
        lines.append(f"已发布版本：第 {st['approved_version']} 版")
    lines.append("时间线：")
    lines += [f"  {when(t['at'])}  {t['text']}" for t in st.get("timeline", [])]
    if story["decisions"]:
        lines.append("决定：")
        for d in story["decisions"]:
            extra = "".join(f"，{k}：{d[f]}" for k, f in (("理由", "reasons"), ("依据", "basis")) if d.get(f))
            roles = "、".join(ROLE_ZH.get(r, r) for r in d["role"].split(",") if r)
            dept = st.get("parties", {}).get(d["dept_code"], d["dept_code"])
            lines.append(f"  {when(d['decided_at'])}  {d['person_name']}（{dept}{'，' + roles if roles else ''}）"
                         f"{ACTION_ZH.get(d['action'], d['action'])}"
                         f"（{d['article']}）{extra}")
    if story["notices"]:
        lines.append("通知：")
        lines += [f"  {when(n['case_time'])}  {n['subject']} → {n['person_name']}（{n['channel']}，{n['status']}）"
                  for n in story["notices"]]
    return "\n".join(lines)


# ---- calendar ------------------------------------------------------------------------------------


@calendar_app.command("due")
def calendar_due(
    from_: str = typer.Option(..., "--from", help="触发事件的日期 YYYY-MM-DD（当日不计）"),
    working_days: int = typer.Option(..., "--working-days", help="工作日数"),
    as_json: bool = JSON_OPT,
) -> None:
    """期限：自事件次日起第 N 个工作日，当日 24 时止。例：pdw calendar due --from 2026-09-28 --working-days 5"""
    from activities.calendar import load_calendar

    try:
        start = date.fromisoformat(from_)
    except ValueError:
        fail(f"--from“{from_}”格式错误，应为 YYYY-MM-DD")
    if working_days < 1:
        fail("--working-days 须为正整数")
    due, provisional = load_calendar().due(start, working_days)
    note = "（暂定：该年调休安排尚未公布）" if provisional else ""
    emit({"due": due.isoformat(), "provisional": provisional}, as_json, f"{due.isoformat()} 24时止{note}")


@calendar_app.command("override")
def calendar_override(
    day: str = typer.Argument(..., help="日期 YYYY-MM-DD"),
    workday: bool = typer.Option(False, "--workday", help="设为工作日"),
    holiday: bool = typer.Option(False, "--holiday", help="设为休息日"),
    note: str = typer.Option(..., "--note", help="依据或原因"),
    as_json: bool = JSON_OPT,
) -> None:
    """县级调整某一天是否为工作日（优先于国务院安排）。例：pdw calendar override 2026-12-01 --holiday --note 台风停工"""
    from activities.calendar import set_override
    from activities.store import StoreError

    if workday == holiday:
        fail("须且只能指定 --workday 或 --holiday 之一")
    try:
        set_override(date.fromisoformat(day), workday, note)
    except ValueError:
        fail(f"日期“{day}”格式错误，应为 YYYY-MM-DD")
    except StoreError as err:
        fail(str(err))
    emit({"day": day, "workday": workday, "note": note}, as_json, f"{day} 已设为{'工作日' if workday else '休息日'}：{note}")


@calendar_app.command("load")
def calendar_load(file: Path = typer.Argument(..., help="全年安排 JSON 文件"), as_json: bool = JSON_OPT) -> None:
    """载入国务院公布的全年节假日安排（含调休），该年期限不再是暂定。例：pdw calendar load 2027.json"""
    from activities.calendar import load_year_file
    from activities.store import StoreError

    try:
        year, off, on = load_year_file(file)
    except StoreError as err:
        fail(str(err))
    emit({"year": year, "holidays": off, "workdays": on}, as_json, f"已载入 {year} 年安排：放假 {off} 天，调休上班 {on} 天")


# ---- records ---------------------------------------------------------------------------------------


@dept_app.command("list")
def dept_list(as_json: bool = JSON_OPT) -> None:
    """各部门及其备案的主要负责人、分管领导、日常管理人员（第四十三条）。例：pdw dept list"""
    from sqlmodel import select

    from activities.store import holders, session
    from models.departments import ROLE_ZH, Department

    rows = []
    with session() as s:
        for dept in s.exec(select(Department).order_by(Department.code)).all():
            people = {role: [p.model_dump() for p in holders(s, dept.code, role)] for role in ROLE_ZH}
            rows.append({"code": dept.code, "name": dept.name, "kind": dept.kind, "people": people})
    def holders_text(people: list[dict[str, Any]]) -> str:
        return "、".join(f"{p['name']}({p['id']})" for p in people) or "（空缺）"

    text = "\n".join(
        f"{r['code']:<8} {r['name']}  "
        + "  ".join(f"{ROLE_ZH[role]}：{holders_text(ps)}" for role, ps in r["people"].items())
        for r in rows
    )
    emit(rows, as_json, text or "（尚无部门：运行 pdw setup --seed 或 make dev）")


@dept_app.command("assign")
def dept_assign(
    dept: str = typer.Argument(..., help="部门代码"),
    role: str = typer.Argument(..., help="first_responsible（主要负责人）、leader_in_charge（分管领导）、daily_admin（日常管理人员）"),
    person: str = typer.Argument(..., help="人员编号，如 jyj.wangli"),
    name: str | None = typer.Option(None, "--name", help="姓名（新登记人员必填）"),
    email: str | None = typer.Option(None, "--email"),
    mobile: str | None = typer.Option(None, "--mobile"),
    dingtalk: str | None = typer.Option(None, "--dingtalk", help="钉钉用户 ID"),
    note: str = typer.Option(..., "--note", help="书面报送的依据，如文号"),
    as_json: bool = JSON_OPT,
) -> None:
    """登记部门备案角色的人员变更（第四十三条第二款）；原任人员的记录保留。

    例：pdw dept assign jyj daily_admin jyj.wangli --name 王丽 --email wangli@example.org --note "教人〔2026〕12号"
    """
    from activities.store import StoreError, assign_role

    try:
        before, after = assign_role(dept, role, person, name=name, email=email, mobile=mobile,
                                    dingtalk_id=dingtalk, note=note)
    except StoreError as err:
        fail(str(err))
    emit({"dept": dept, "role": role, "before": before, "after": after}, as_json,
         f"{dept} {role}：{before or '（空缺）'} → {after}" if before != after else f"{after} 已担任该角色")


@catalog_app.command("list")
def catalog_list(as_json: bool = JSON_OPT) -> None:
    """目录中的数据资源及其现行版本。例：pdw catalog list --json"""
    from sqlmodel import select

    from activities.store import session
    from models.catalog import SHARE_ATTRIBUTES, CatalogVersion

    with session() as s:
        rows = s.exec(select(CatalogVersion).where(CatalogVersion.is_current).order_by(CatalogVersion.resource_id)).all()
    data = [r.model_dump(mode="json") for r in rows]
    text = "\n".join(
        f"{r.resource_id:<14} v{r.version}  {r.name}（{r.provider_code}，{SHARE_ATTRIBUTES.get(r.share_attribute, r.share_attribute)}）"
        for r in rows
    )
    emit(data, as_json, text or "（目录为空）")


@catalog_app.command("show")
def catalog_show(resource_id: str = typer.Argument(..., help="数据资源编号"), as_json: bool = JSON_OPT) -> None:
    """一条目录的全部版本（每次审核通过的修订都保留）。例：pdw catalog show RES-JYJ-001"""
    from sqlmodel import select

    from activities.catalog import get_resource
    from activities.store import StoreError, session
    from models.catalog import (
        ELEMENT_ZH,
        OPEN_ATTRIBUTES,
        SHARE_ATTRIBUTES,
        UPDATE_FREQUENCIES,
        CatalogVersion,
    )

    try:
        with session() as s:
            get_resource(s, resource_id)
            versions = s.exec(
                select(CatalogVersion).where(CatalogVersion.resource_id == resource_id).order_by(CatalogVersion.version)
            ).all()
    except StoreError as err:
        fail(str(err))
    data = [v.model_dump(mode="json") for v in versions]
    lines = []
    for v in versions:
        lines.append(f"第 {v.version} 版{'（现行）' if v.is_current else ''}  {v.approved_at:%Y-%m-%d}  {v.case_id or '初始编目'}")
        labels = {"share_attribute": SHARE_ATTRIBUTES, "open_attribute": OPEN_ATTRIBUTES,
                  "update_frequency": UPDATE_FREQUENCIES}
        for field, zh in ELEMENT_ZH.items():
            value = getattr(v, field)
            label = labels.get(field, {}).get(value)
            lines.append(f"  {zh}：{label}（{value}）" if label else f"  {zh}：{value}")
        lines += [f"  {zh}：{getattr(v, f)}" for f, zh in (("share_reason", "受限理由"), ("share_basis", "法律依据"))
                  if getattr(v, f)]
    emit(data, as_json, "\n".join(lines))


def main() -> None:
    code = 0
    try:
        app()
    except SystemExit as exc:
        if isinstance(exc.code, str):
            typer.echo(exc.code, err=True)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as err:
        from activities.store import StoreError

        if not isinstance(err, CliError | StoreError):
            raise
        typer.echo(f"错误：{err}", err=True)
        code = 1
    exit_now(code)


def exit_now(code: int) -> None:
    """Exit without interpreter teardown: the Temporal client's native threads can abort it
    (temporalio/sdk-python#300), which would turn a finished command into a crash."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
