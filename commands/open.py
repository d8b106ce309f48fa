"""Open data (Art. 28–32), for the public and the open system: ``pdw open apply|request|object``.

These routes are public: no credential is sent.
"""

from __future__ import annotations

import os
from typing import Annotated
from urllib.parse import quote

import typer

from commands._client import INPUT_OPT, JSON_OPT, CliError, body_of, call, emit

app = typer.Typer(help="公共数据开放申请与复核（第二十八条至第三十二条）。", no_args_is_help=True)

ID_TYPE_HELP = "证件类型，默认 resident_id"
TOKEN_ENV = "PDW_RECEIPT_TOKEN"  # pdw open status reads the receipt token here, kept off the command line


@app.command("apply")
def open_apply(
    resource: Annotated[str | None, typer.Option("--resource", help="数据资源编号")] = None,
    name: Annotated[str | None, typer.Option("--name", help="申请人（公民、法人或其他组织）名称")] = None,
    id_type: Annotated[str | None, typer.Option("--id-type", help=ID_TYPE_HELP)] = None,
    id_number: Annotated[str | None, typer.Option("--id-number", help="证件号码（不写入日志和工作流）")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="联系方式")] = None,
    scope: Annotated[str | None, typer.Option("--scope", help="使用范围")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="使用用途")] = None,
    access_way: Annotated[str | None, typer.Option("--access-way", help="获取方式，默认 download")] = None,
    access_note: Annotated[str | None, typer.Option("--access-note", help="获取方式为 other 时必填：具体方式及依据")] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """申请受限开放数据（第二十八条第二款、第三十一条）。

    \b
    公民、法人或其他组织提出。
    证件类型：resident_id（居民身份证）、passport（护照）、
      uscc（统一社会信用代码）、other（其他）；
    获取方式（第三十一条）：download（下载）、api（接口）、algorithm（算法模型）、
      other（法律、法规、规章和国家规定的其他方式，须以 --access-note 写明）。
    尚未列入开放目录（未开放）的数据不予开放，申请计入第三十二条的申请人数。

    \b
    例：pdw open apply --resource RES-MZJ-001 --name 张三 \\
          --id-number 330324199001011233 --contact 13905770000 \\
          --scope 学术研究 --purpose "研究救助政策" --access-way api
    """
    body = body_of(input_, resource_id=resource, name=name, id_type=id_type, id_number=id_number, contact=contact,
                   scope=scope, purpose=purpose, access_way=access_way, access_way_note=access_note)
    result = call("POST", "/v1/public/open-applications", body=body, public=True)
    emit(result, as_json, lambda: f"{result['case_id']}\n已受理开放申请（{result.get('applicant', '')}）；"
         f"查看：pdw show {result['case_id']}" + _listing_line(result.get("listing")) + receipt_line(result))


def _listing_line(listing: dict[str, object] | None) -> str:
    """Art. 32: an application for unopened data counts toward the data's listing review."""
    if not listing:
        return ""
    if listing.get("case_id"):
        return f"\n该数据尚未列入开放目录：本申请已计入，数源部门审核案件 {listing['case_id']}（第三十二条）"
    return f"\n该数据尚未列入开放目录：本申请已计入，待审核的申请人 {listing.get('count', '')} 人（第三十二条）"


@app.command("request")
def open_request(
    resource: Annotated[str | None, typer.Option("--resource", help="尚未列入开放目录的数据资源")] = None,
    name: Annotated[str | None, typer.Option("--name", help="申请人名称")] = None,
    id_type: Annotated[str | None, typer.Option("--id-type", help=ID_TYPE_HELP)] = None,
    id_number: Annotated[str | None, typer.Option("--id-number", help="证件号码（同一证件号码只计一人）")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="联系方式")] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """申请尚未列入开放目录（未开放）的数据（第三十二条）。

    \b
    申请人数达到 PDW_OPEN_REQUEST_THRESHOLD 即转数源部门审核；
    一人（同一证件类型和号码）在同一轮只计一次，因数据未开放而
    不予开放的开放申请（pdw open apply）一并计入。

    \b
    例：pdw open request --resource RES-JYJ-002 --name 赵六 \\
          --id-number 330324199001015672 --contact 13800000001
    """
    body = body_of(input_, resource_id=resource, name=name, id_type=id_type, id_number=id_number, contact=contact)
    result = call("POST", "/v1/public/open-requests", body=body, public=True)
    emit(result, as_json, lambda: (f"{result['case_id']}\n已登记，该数据已在开放目录申请的审核中，进展见回执（第三十二条）"
                                   if result.get("case_id")
         else f"已登记，该数据待审核的申请人 {result.get('count', '')} 人（第三十二条）") + receipt_line(result))


@app.command("object")
def open_object(
    case_id: Annotated[str, typer.Argument(help="开放目录审核案件编号")],
    name: Annotated[str | None, typer.Option("--name", help="申请人名称")] = None,
    id_type: Annotated[str | None, typer.Option("--id-type", help=ID_TYPE_HELP)] = None,
    id_number: Annotated[str | None, typer.Option("--id-number", help="证件号码")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="联系方式")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="对数源部门答复的异议")] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """对数源部门的答复申请复核（第三十二条）。

    每一位有异议的申请人都可提出；县大数据管理中心自收到每件复核申请起
    3 个工作日内反馈复核结果。

    \b
    例：pdw open object listing-2026-000001 --name 赵六 \\
          --id-number 330324199001015672 --contact 13800000001 \\
          --reason 可汇总后开放
    """
    body = body_of(input_, case_id=case_id, name=name, id_type=id_type, id_number=id_number, contact=contact,
                   reason=reason)
    result = call("POST", "/v1/public/objections", body=body, public=True)
    emit(result, as_json, lambda: f"{case_id}：{result.get('message') or '已提出复核申请'}" + receipt_line(result))


def receipt_line(result: dict[str, object]) -> str:
    """The receipt (number, the token shown once, how notices come) for the applicant to keep."""
    if not result.get("receipt"):
        return ""
    token = f"\n回执令牌（只显示这一次，请妥善保存）：{result['receipt_token']}" if result.get("receipt_token") else ""
    rotated = "\n（重复提交：已换发新的回执令牌，此前的令牌不再有效）" if result.get("token_rotated") else ""
    return (f"\n回执编号：{result['receipt']}{token}{rotated}\n办理结果通知：{result.get('notify_zh', '')}"
            f"\n查询：pdw open status {result['receipt']}（令牌按提示输入，或放在环境变量 {TOKEN_ENV}）")


@app.command("status")
def open_status(
    number: Annotated[str, typer.Argument(help="回执编号，如 GK-2026-000123")],
    token: Annotated[str | None, typer.Option(
        "--token", help=f"受理时显示的回执令牌；不写则读环境变量 {TOKEN_ENV}，再无则提示输入（不回显）")] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """凭回执编号和令牌查询办理情况（第二十八条、第三十二条）。

    \b
    无须登录：所问何事、办理状态、理由和下一步（如何、何时申请复核）。
    令牌写在命令行上会留在 shell 历史和进程列表里：宜放在环境变量
    PDW_RECEIPT_TOKEN，或不写 --token 而按提示输入（不回显）。

    \b
    例：pdw open status GK-2026-000123
        PDW_RECEIPT_TOKEN=rt_回执令牌 pdw open status GK-2026-000123
    """
    token = (token or os.environ.get(TOKEN_ENV) or typer.prompt("回执令牌", hide_input=True)).strip()
    if not token.isascii() or not token.isprintable():
        raise CliError("--token：回执令牌只含英文字母、数字和符号（以 rt_ 开头，受理时显示一次），请照原样填写")
    result = call("GET", f"/v1/public/receipts/{quote(number, safe='')}", public=True,
                  headers={"X-Receipt-Token": token})
    emit(result, as_json, lambda: status_lines(result))


def status_lines(r: dict[str, object]) -> str:
    lines = [f"{r.get('receipt')}  {r.get('kind_zh')}：{r.get('asked')}", f"申请人：{r.get('applicant')}",
             f"状态：{r.get('status_zh')}" + (f"（{r['outcome_zh']}）" if r.get("outcome_zh") else "")]
    if r.get("reasons"):
        lines.append(f"理由：{r['reasons']}")
    if r.get("next_step"):
        lines.append(f"下一步：{r['next_step']}")
    if r.get("case_id"):
        lines.append(f"案件：{r['case_id']}")
    lines.append(f"办理结果通知：{r.get('notify_zh', '')}")
    return "\n".join(lines)
