"""Open data (Art. 28–32), for the public and the open system: ``pdw open apply|request|object``.

These routes are public: no credential is sent.
"""

from __future__ import annotations

from typing import Annotated

import typer

from commands._client import INPUT_OPT, JSON_OPT, body_of, call, emit

app = typer.Typer(help="公共数据开放申请与复核（第二十八条至第三十二条）。", no_args_is_help=True)

ID_TYPE_HELP = "证件类型，默认 resident_id"


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
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """申请受限开放数据（第二十八条第二款、第三十一条）。

    \b
    公民、法人或其他组织提出。
    证件类型：resident_id（居民身份证）、passport（护照）、
      uscc（统一社会信用代码）、other（其他）；
    获取方式：download（下载）、api（接口）、algorithm（算法模型）。

    \b
    例：pdw open apply --resource RES-MZJ-001 --name 张三 \\
          --id-number 330324199001011233 --contact 13905770000 \\
          --scope 学术研究 --purpose "研究救助政策" --access-way api
    """
    body = body_of(input_, resource_id=resource, name=name, id_type=id_type, id_number=id_number, contact=contact,
                   scope=scope, purpose=purpose, access_way=access_way)
    result = call("POST", "/v1/public/open-applications", body=body, public=True)
    emit(result, as_json, lambda: f"{result['case_id']}\n已受理开放申请（{result.get('applicant', '')}）；"
         f"查看：pdw show {result['case_id']}")


@app.command("request")
def open_request(
    resource: Annotated[str | None, typer.Option("--resource", help="尚未列入开放目录的数据资源")] = None,
    name: Annotated[str | None, typer.Option("--name", help="申请人名称")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="联系方式")] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """申请尚未列入开放目录的数据（第三十二条）。

    申请达到次数（PDW_OPEN_REQUEST_THRESHOLD）即转数源部门审核。

    例：pdw open request --resource RES-WJJ-002 --name 赵六 --contact 13800000001
    """
    body = body_of(input_, resource_id=resource, name=name, contact=contact)
    result = call("POST", "/v1/public/open-requests", body=body, public=True)
    emit(result, as_json, lambda: f"{result['case_id']}\n该数据已转数源部门审核（第三十二条）" if result.get("case_id")
         else f"已登记，该数据待审核的公众申请 {result.get('count', '')} 次")


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
    emit(result, as_json, lambda: f"{case_id}：{result.get('message') or '已提出复核申请'}")
