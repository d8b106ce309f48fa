"""Departments and their Art. 43 people: ``pdw dept list|assign``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands._client import AS_OPT, JSON_OPT, call, emit, path_part

app = typer.Typer(help="部门及其备案人员（第四十三条）。", no_args_is_help=True)


@app.command("list")
def dept_list(
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """各部门及其备案人员（第四十三条）。

    主要负责人、分管领导、日常管理人员。

    例：pdw dept list
    """
    rows = call("GET", "/v1/departments", as_=as_)
    emit(rows, as_json, lambda: "\n".join(dept_line(r) for r in rows) or "（尚无部门：运行 pdw setup --seed 或 make dev）")


def dept_line(r: dict[str, Any]) -> str:
    def holders(people: list[dict[str, Any]]) -> str:
        return "、".join(f"{p.get('name', '')}({p.get('id') or p.get('person_id', '')})" for p in people) or "（空缺）"

    roles_zh = r.get("roles_zh") or {}
    return f"{r.get('code', ''):<8} {r.get('name', '')}  " + "  ".join(
        f"{roles_zh.get(role, role)}：{holders(people or [])}" for role, people in (r.get("people") or {}).items())


@app.command("assign")
def dept_assign(
    dept: Annotated[str, typer.Argument(help="部门代码")],
    role: Annotated[str, typer.Argument(help="备案角色，见上")],
    person: Annotated[str, typer.Argument(help="人员编号，如 jyj.wangli")],
    *,
    name: Annotated[str | None, typer.Option("--name", help="姓名（新登记人员必填）")] = None,
    email: Annotated[str | None, typer.Option("--email", help="电子邮箱")] = None,
    mobile: Annotated[str | None, typer.Option("--mobile", help="手机号码")] = None,
    dingtalk: Annotated[str | None, typer.Option("--dingtalk", help="钉钉用户 ID")] = None,
    note: Annotated[str, typer.Option("--note", help="书面报送的依据，如文号")],
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """登记部门备案角色的人员变更（第四十三条第二款）。

    \b
    原任人员的记录保留。角色：
      first_responsible（主要负责人）、leader_in_charge（分管领导）、
      daily_admin（日常管理人员）。

    \b
    例：pdw dept assign jyj daily_admin jyj.wangli --name 王丽 \\
          --email wangli@example.org --note "教人〔2026〕12号"
    """
    body = {"role": role, "person_id": person, "note": note,
            **{k: v for k, v in (("name", name), ("email", email), ("mobile", mobile), ("dingtalk", dingtalk))
               if v is not None}}
    result = call("POST", f"/v1/departments/{path_part(dept, '部门代码')}/roles", body=body, as_=as_)

    def text() -> str:
        before, after = result.get("before"), result.get("after")
        return f"{dept} {role}：{before or '（空缺）'} → {after}" if before != after else f"{after} 已担任该角色"

    emit(result, as_json, text)
