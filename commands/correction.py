"""Data correction (Art. 23): ``pdw correction report``."""

from __future__ import annotations

from typing import Annotated

import typer

from commands._client import AS_OPT, INPUT_OPT, JSON_OPT, body_of, call, emit

app = typer.Typer(help="数据纠错校核（第二十三条）。", no_args_is_help=True)


@app.command("report")
def correction_report(
    resource: Annotated[str | None, typer.Option("--resource", help="数据资源编号")] = None,
    item: Annotated[list[str], typer.Option("--item", help="有疑义或错误的数据项，可重复")] = [],  # noqa: B006 - never mutated
    found: Annotated[str | None, typer.Option("--found", help="发现的问题")] = None,
    expected: Annotated[str | None, typer.Option("--expected", help="认为正确的数据")] = None,
    evidence: Annotated[str | None, typer.Option("--evidence", help="证明材料")] = None,
    proof: Annotated[bool, typer.Option("--proof-provided", help="办事人已提供合法有效证明材料")] = False,
    as_: Annotated[str | None, AS_OPT] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """对共享数据有疑义或发现错误，提出校核（第二十三条）。

    \b
    经县大数据管理中心反馈数源部门；办事人已提供合法有效
    证明材料的，可先行办理（第二十三条第二款）。

    \b
    例：pdw correction report --resource RES-SCJGJ-001 --item 住所 \\
          --found "住所仍为旧址" --expected "瓯北街道新址" \\
          --evidence "营业执照副本" --proof-provided --as gaj.zhangfang
    """
    body = body_of(input_, resource_id=resource, items=item, found=found, expected=expected, evidence=evidence,
                   proof_provided=proof)
    result = call("POST", "/v1/cases/correction", body=body, as_=as_)
    emit(result, as_json,
         lambda: f"{result['case_id']}\n已反馈，待县大数据管理中心转交数源部门；查看：pdw show {result['case_id']}")
