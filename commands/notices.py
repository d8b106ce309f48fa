"""Notices: ``pdw notices list|retry|digest``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands._client import AS_OPT, JSON_OPT, LIMIT_OPT, OFFSET_OPT, call, emit, past_the_end, when, zh

app = typer.Typer(help="通知：发件箱、送达情况、领导日报。", no_args_is_help=True)


@app.command("list")
def notices_list(
    case: Annotated[str | None, typer.Option("--case", help="案件编号")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="只列送达失败的")] = False,
    limit: Annotated[int, LIMIT_OPT] = 50,
    offset: Annotated[int, OFFSET_OPT] = 0,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """发件箱：什么通知、发给谁、何时、经何渠道、结果；最新的在前。

    例：pdw notices list --failed
    """
    rows = call("GET", "/v1/notices", query={"case": case, "failed": failed or None, "limit": limit,
                                              "offset": offset or None}, as_=as_)
    emit(rows, as_json, lambda: "\n".join(notice_line(n) for n in rows) or past_the_end(offset) or "（没有通知）")


def notice_line(n: dict[str, Any]) -> str:
    address = f"：{n['address']}" if n.get("address") else ""
    # An applicant is named by the masked label and the receipt, never the contact (issue 12).
    who = f"申请人 {n.get('person_name', '')}，回执 {n.get('person_id', '')}" if n.get("role") == "applicant" else ""
    return (f"{n.get('id', ''):>5}  {when(n.get('created_at'), '%m-%d %H:%M')}  {n.get('case_id', '')}  "
            f"{n.get('subject', '')}  → {who or n.get('person_name', '')}（{zh(n, 'channel')}{address}）{zh(n, 'status')}"
            + (f"，已试 {n.get('attempts')} 次：{n['error']}" if n.get("error") else ""))


@app.command("retry")
def notices_retry(
    older_than: Annotated[int, typer.Option("--older-than", help="待送达超过几分钟的通知")] = 5,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """重新投递仍待送达的通知。

    如撤销授权时 Temporal 暂不可用；每日日报时也会自动执行。

    例：pdw notices retry
    """
    result = call("POST", "/v1/notices/retry", body={"older_than_minutes": older_than}, as_=as_)
    emit(result, as_json, lambda: f"已重新投递 {result.get('restarted')} 条待送达通知")


@app.command("digest")
def notices_digest(
    force: Annotated[bool, typer.Option("--force", help="非工作日也发送")] = False,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """立即发送领导逾期案件日报。

    平时由 Temporal Schedule 每个工作日发送。

    例：pdw notices digest --force
    """
    result = call("POST", "/v1/notices/digest", body={"force": force}, as_=as_)
    emit(result, as_json, lambda: f"日报已发送：{result.get('notices')} 条通知" if result.get("working_day", True)
         else "今天不是工作日，日报未发送（--force 照发）")
