"""Looking at and deciding cases: ``pdw show``, ``decide``, ``inbox``, ``overdue``, ``stuck``."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import typer

from commands._client import (
    AS_OPT,
    JSON_OPT,
    LIMIT_OPT,
    OFFSET_OPT,
    CliError,
    call,
    emit,
    past_the_end,
    path_part,
    read_input,
    until,
    when,
    zh,
)

app = typer.Typer()
case_app = typer.Typer(help="案件的管理事项：移交（县大数据管理中心）。", no_args_is_help=True)


@app.command()
def show(
    case_id: Annotated[str, typer.Argument(help="案件编号")],
    as_: Annotated[str | None, AS_OPT] = None,
    decision: Annotated[str | None, typer.Option("--decision", help="只查看这项决定（决定编号）是否已被采纳")] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """案件的全过程：环节、期限、决定、通知、时间线。

    \b
    例：pdw show share-2026-000001 --json
    例：pdw show share-2026-000001 --decision d-3f2a9c01b4e5d6f7
    """
    if decision is not None:  # pdw decide's "已提交，尚未确认" names this check
        answer = call("GET", f"/v1/cases/{path_part(case_id, '案件编号（CASE）')}/decisions/{path_part(decision, '决定编号（--decision）')}", as_=as_)
        emit(answer, as_json, lambda: f"{case_id} 决定 {decision}：{answer.get('message', '')}")
        return
    story = call("GET", f"/v1/cases/{path_part(case_id, '案件编号（CASE）')}", as_=as_)
    emit(story, as_json, lambda: render_story(story))


@app.command()
def decide(
    case_id: Annotated[str, typer.Argument(help="案件编号")],
    action: Annotated[str, typer.Argument(help="操作，如 submit、approve、return；撤回 withdraw、撤销 cancel")],
    as_: Annotated[str | None, AS_OPT] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="理由")] = None,
    basis: Annotated[str | None, typer.Option("--basis", help="依据")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="数据项 KEY=VALUE，可重复")] = [],  # noqa: B006 - never mutated
    input_: Annotated[str | None, typer.Option("--input", help="数据项 JSON 文件（- 为标准输入）")] = None,
    decision_id: Annotated[str | None, typer.Option(
        "--decision-id", help="决定编号（8–64 个字母、数字或 ._:-）：重新提交同一决定时用原编号，不会成为第二项决定（默认新生成）")] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """在案件中作出决定。

    未及时得到答复时，决定已提交但尚未确认（可能仍会被拒绝）：
    按所示命令 pdw show 案件编号 --decision 决定编号 查看结果。

    \b
    例：pdw decide catalog-2026-000001 approve --as dsj.zhouwei
    例：pdw decide catalog-2026-000001 submit --as jyj.panxiaoyu \\
          --set items="学校名称、地址" --set share_modes="query、batch"
    例：pdw decide catalog-2026-000001 return --as dsj.zhouwei \\
          --reason "编码格式与实际不符"
    例：pdw decide correction-2026-000001 extend --as scjgj.yangguang \\
          --reason "需调取档案" --set working_days=5
    例：pdw decide review-2026-000001 answer --as gaj.zhangfang \\
          --set RES-GAJ-002=keep --set RES-GAJ-002.reason="涉及车辆所有人信息"
    例：pdw decide catalog-2026-000001 withdraw --as jyj.panxiaoyu \\
          --reason "误登记"
    """
    data = read_input(input_)
    for item in set_:
        key, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--set“{item}”格式错误，应为 KEY=VALUE")
        data[key] = value
    body: dict[str, Any] = {"action": action, "data": data}
    if reason is not None:
        body["reasons"] = reason
    if basis is not None:
        body["basis"] = basis
    # The id is the case's update id: sent again with it, the decision is the same one, not a second.
    body["decision_id"] = decision_id or f"d-{secrets.token_hex(8)}"
    try:
        result = call("POST", f"/v1/cases/{path_part(case_id, '案件编号（CASE）')}/decisions", body=body, as_=as_)
    except CliError as err:
        if not str(err).startswith("无法连接"):  # a refusal is an answer; only a lost answer leaves doubt
            raise
        raise CliError(f"{err}；若要重新提交，请加 --decision-id {body['decision_id']}（同一编号不会成为第二项决定），"
                       f"或用 pdw show {case_id} --decision {body['decision_id']} 查看") from err
    emit(result, as_json, lambda: f"{result.get('case_id', case_id)}：{result.get('message', '')}")


@case_app.command("transfer")
def transfer(
    case_id: Annotated[str, typer.Argument(help="案件编号")],
    to: Annotated[str, typer.Option("--to", help="移交给的部门代码：数据资源现在的提供单位")],
    reason: Annotated[str, typer.Option("--reason", help="移交理由")],
    as_: Annotated[str | None, AS_OPT] = None,
    decision_id: Annotated[str | None, typer.Option("--decision-id", help="决定编号：重新提交同一移交时用原编号")] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """将进行中的案件移交数据资源现在的提供单位（县大数据管理中心，本地规定）。

    目录条目的提供单位变更后，新案件送新的提供单位；进行中的案件仍由原部门办理，
    除非县大数据管理中心移交。移交后，新部门办理的环节自移交次日起重新计算期限。

    \b
    例：pdw case transfer share-2026-000001 --to wjj \\
          --reason "提供单位已变更为县卫生健康局" --as dsj.zhouwei
    """
    body = {"to": to, "reason": reason, "decision_id": decision_id or f"d-{secrets.token_hex(8)}"}
    result = call("POST", f"/v1/cases/{path_part(case_id, '案件编号（CASE）')}/transfer", body=body, as_=as_)
    emit(result, as_json, lambda: f"{result.get('case_id', case_id)}：{result.get('message', '')}")


@app.command()
def inbox(
    dept: Annotated[str, typer.Option("--dept", help="部门代码")],
    limit: Annotated[int, LIMIT_OPT] = 200,
    offset: Annotated[int, OFFSET_OPT] = 0,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """等待某部门办理的案件，期限最近的在前。

    例：pdw inbox --dept jyj
    """
    cases = call("GET", "/v1/inbox", query={"dept": dept, "limit": limit, "offset": offset}, as_=as_)
    emit(cases, as_json, lambda: "\n".join(case_lines(cases)) or past_the_end(offset)
         or f"{dept_name(dept, as_)}目前没有待办案件")


def dept_name(code: str, as_: str | None) -> str:
    """A department's name for a line to staff (its code if the list cannot say)."""
    rows = call("GET", "/v1/departments", as_=as_)
    return next((str(r.get("name")) for r in rows if r.get("code") == code), code)


@app.command()
def overdue(
    limit: Annotated[int, LIMIT_OPT] = 200,
    offset: Annotated[int, OFFSET_OPT] = 0,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """已预警、到期或逾期的案件，按部门列出。

    依据第四十一条、第四十六条。

    例：pdw overdue
    """
    cases = call("GET", "/v1/overdue", query={"limit": limit, "offset": offset}, as_=as_)

    def text() -> str:
        lines: list[str] = []
        for code in sorted({c.get("awaiting") or "" for c in cases}):
            mine = [c for c in cases if (c.get("awaiting") or "") == code]
            lines += [f"{awaiting_name(mine[0])}：{len(mine)} 件", *("  " + line for line in case_lines(mine))]
        return "\n".join(lines) or past_the_end(offset) or "没有临近或超过期限的案件"

    emit(cases, as_json, text)


@app.command()
def stuck(
    idle_days: Annotated[int, typer.Option("--idle-days", help="多少天没有任何进展算停滞")] = 10,
    limit: Annotated[int, LIMIT_OPT] = 200,
    offset: Annotated[int, OFFSET_OPT] = 0,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """卡住的案件：某一步骤反复失败（PdwStuck，列出原因）、工作流任务反复失败，或多日没有进展；反复失败的在前。

    例：pdw stuck --idle-days 5
    """
    cases = call("GET", "/v1/stuck", query={"idle_days": idle_days, "limit": limit, "offset": offset}, as_=as_)
    emit(cases, as_json, lambda: "\n".join(
        f"{line}  {c.get('why', '')}" for line, c in zip(case_lines(cases), cases, strict=True))
         or past_the_end(offset) or "没有卡住的案件")


def awaiting_name(c: dict[str, Any]) -> str:
    names = c.get("awaiting_name") or c.get("awaiting_names")
    if isinstance(names, list):
        names = "、".join(str(n) for n in names)
    return str(names or c.get("awaiting") or "（无）")


def case_lines(cases: list[dict[str, Any]]) -> list[str]:
    """One line a case: id, kind, who it waits for, the due day, the ladder's rung."""
    lines = []
    for c in cases:
        due = c.get("due_date") or "—"  # the last working day, in Asia/Shanghai (due_at is 24:00 of it)
        level = c.get("level_zh") or ""
        lines.append(
            f"{c.get('case_id', ''):<24} {zh(c, 'case_type'):<8} 等待 {awaiting_name(c):<12} "
            f"期限 {due}{'（暂定）' if c.get('provisional') else ''} {level}".rstrip()
        )
    return lines


def render_story(story: dict[str, Any]) -> str:
    """``pdw show`` for people, from the labels the API gives (``*_zh``, ``dept_name``)."""
    st = story.get("state") or {}
    parties = st.get("parties") or {}
    lines = [f"{story.get('case_id', '')}  {story.get('summary') or ''}".rstrip(),
             f"状态：{st.get('status_zh') or st.get('status', '')}"]
    lines += [str(f) for f in st.get("facts", [])]
    if st.get("awaiting"):
        names = st.get("awaiting_names") or [parties.get(c, c) for c in st["awaiting"]]
        lines.append(f"等待：{'、'.join(names)}（依据{st.get('article', '')}）")
    for step, d in (st.get("deadlines") or {}).items():
        kind = "法定" if d.get("statutory") else "本地默认"
        provisional = "，暂定" if d.get("provisional") else ""
        lines.append(f"期限 {d.get('step_zh') or step}：{d.get('due_date')} 24时（{d.get('article', '')}，{kind}{provisional}）")
    for o in st.get("objections") or []:  # Art. 32: each objection under its own 3 working days
        answer = o.get("answer_zh") or "待复核"
        lines.append(f"复核申请第 {o.get('seq')} 件：{o.get('objector_label', '')}，收到 {when(o.get('received_at'))}，"
                     f"复核期限 {until(o.get('due_at'))}，{answer}")
    if st.get("level_zh"):
        lines.append(f"催督办级别：{st['level_zh']}")
    if st.get("approved_version"):
        lines.append(f"已发布版本：第 {st['approved_version']} 版")
    lines.append("时间线：")
    lines += [f"  {when(t.get('at'))}  {t.get('text', '')}" for t in st.get("timeline", [])]
    if story.get("decisions"):
        lines.append("决定：")
        for d in story["decisions"]:
            extra = "".join(f"，{k}：{d[f]}" for k, f in (("理由", "reasons"), ("依据", "basis")) if d.get(f))
            roles = d.get("roles_zh") or d.get("role") or ""
            roles = "、".join(roles) if isinstance(roles, list) else str(roles)
            dept = d.get("dept_name") or parties.get(d.get("dept_code"), d.get("dept_code", ""))
            who = (f"{dept}{d.get('person_name', '')}" if d.get("dept_code") == "public"  # 公众吴*（居民身份证 ****1234）
                   else f"{d.get('person_name', '')}（{dept}{'，' + roles if roles else ''}）")
            lines.append(f"  {when(d.get('decided_at'))}  {who}{zh(d, 'action')}（{d.get('article', '')}）{extra}")
    if story.get("notices"):
        lines.append("通知：")
        lines += [f"  {when(n.get('case_time') or n.get('created_at'))}  {n.get('subject', '')} → {n.get('person_name', '')}"
                  f"（{zh(n, 'channel')}，{zh(n, 'status')}）" for n in story["notices"]]
    return "\n".join(lines)
