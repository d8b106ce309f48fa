"""Who is calling: ``pdw login``, ``pdw logout``, ``pdw token issue|list|revoke`` (docs/api.md)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from commands._client import AS_OPT, JSON_OPT, CliError, call, emit, save_token, token_path, when, zh

app = typer.Typer()
token_app = typer.Typer(help="个人令牌：签发、查看、吊销（县大数据管理中心）。", no_args_is_help=True)


def who(me: dict[str, Any]) -> str:
    roles = zh(me, "roles")
    dept = me.get("dept_name") or me.get("dept_code") or ""
    return f"{me.get('name', '')}（{me.get('person_id') or me.get('id', '')}，{dept}{'，' + roles if roles else ''}）"


@app.command()
def login(
    token: Annotated[str | None, typer.Option("--token", help="个人令牌；不给则提示输入（或读标准输入）")] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """用个人令牌登录：核对后保存，供以后的命令使用。

    \b
    令牌由县大数据管理中心签发（pdw token issue），
    保存在 $XDG_CONFIG_HOME/pdw/token（仅本人可读）。

    \b
    例：pdw login
    例：echo "$TOKEN" | pdw login
    """
    if token is None:
        token = typer.prompt("个人令牌", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline()
    token = token.strip()
    if not token:
        raise CliError("没有读到令牌：请用 --token 给出，或在提示时输入")
    me = call("GET", "/v1/me", token=token)
    path = save_token(token)
    emit(me, as_json, lambda: f"已登录：{who(me)}\n令牌保存在 {path}")


@app.command()
def logout() -> None:
    """删除 pdw login 保存的令牌。

    例：pdw logout
    """
    path = token_path()
    try:
        path.unlink()
    except FileNotFoundError:
        typer.echo("本来就没有保存的令牌")
        return
    typer.echo(f"已删除 {path}")


@token_app.command("issue")
def token_issue(
    person: Annotated[str, typer.Argument(help="人员编号，如 jyj.wangli")],
    days: Annotated[int | None, typer.Option("--days", help="有效天数（默认 PDW_TOKEN_DAYS，90）")] = None,
    label: Annotated[str | None, typer.Option("--label", help="备注，如用途或设备")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """为已备案人员签发个人令牌；令牌只显示这一次。

    例：pdw token issue jyj.wangli --days 30 --label 办公电脑
    """
    body = {"person_id": person, **({"days": days} if days is not None else {}),
            **({"label": label} if label is not None else {})}
    result = call("POST", "/v1/tokens", body=body, as_=as_)
    emit(result, as_json, lambda: f"已为 {person} 签发令牌 {result.get('id', '')}，{when(result.get('expires_at'))} 到期。\n"
         f"令牌只显示这一次，请交本人用 pdw login 保存：\n{result.get('token', '')}")


@token_app.command("list")
def token_list(
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """已签发的个人令牌（不含令牌本身）。

    例：pdw token list
    """
    rows = call("GET", "/v1/tokens", as_=as_)
    emit(rows, as_json, lambda: "\n".join(
        f"{t.get('id', ''):>4}  {t.get('person_id', '')}{'（' + t['person_name'] + '）' if t.get('person_name') else ''}  "
        f"签发 {when(t.get('created_at'))}  到期 {when(t.get('expires_at'))}"
        + (f"  已吊销 {when(t['revoked_at'])}" if t.get("revoked_at") else "")
        + (f"  {t['label']}" if t.get("label") else "") for t in rows) or "（没有令牌）")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="令牌编号（pdw token list）")],
    reason: Annotated[str | None, typer.Option("--reason", help="吊销原因，如设备遗失")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """吊销一个个人令牌，立即失效。

    例：pdw token revoke 3
    """
    body = {"reason": reason} if reason is not None else {}
    result = call("POST", f"/v1/tokens/{token_id}/revoke", body=body, as_=as_)
    emit(result, as_json, lambda: f"令牌 {token_id} 已吊销")
