"""The audit log: ``pdw audit verify``."""

from __future__ import annotations

from typing import Annotated

import typer

from commands._client import AS_OPT, JSON_OPT, call, emit

app = typer.Typer(help="审计日志：核验审计链是否完整。", no_args_is_help=True)


@app.command("verify")
def audit_verify(
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """核验审计链：每条审计记录都带有前一条的哈希，改动、删除或插入任何一条都会使链断开。

    链已断时退出码为 1，并指出第一处断开的记录（编号、案件、事件）。

    例：pdw audit verify
    """
    result = call("GET", "/v1/audit/verify", as_=as_)
    emit(result, as_json, lambda: str(result.get("message", "")))
    if not result.get("holds"):
        raise typer.Exit(1)
