"""Applicants' personal data (个人信息保护法): ``pdw applicants purge``."""

from __future__ import annotations

from typing import Annotated

import typer

from commands._client import AS_OPT, JSON_OPT, call, emit

app = typer.Typer(help="申请人个人信息：超过保存期限的删除（个人信息保护法）。", no_args_is_help=True)


@app.command("purge")
def applicants_purge(
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """立即删除超过保存期限的申请人姓名、证件号码和联系方式。

    \b
    只保留脱敏标识，案件和回执仍可查看；由县大数据管理中心人员办理，记入审计链。
    保存期限见 PDW_RETENTION_*_DAYS；
    每日另由 Schedule pdw-applicants-purge 自动执行。

    例：pdw applicants purge
    """
    result = call("POST", "/v1/applicants/purge", body={}, as_=as_)
    emit(result, as_json, lambda: str(result.get("message", "")))
