"""The access log (Art. 25): ``pdw access list`` — who read which shared data, when, under which grant,
and whether within it (Art. 22)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands._client import AS_OPT, JSON_OPT, CliError, call, emit, when

app = typer.Typer(help="共享数据读取记录（第二十五条）。", no_args_is_help=True)


def _row(r: dict[str, Any]) -> str:
    grant = r.get("grant_id") or (f"申请 {r['application_case_id']}" if r.get("application_case_id") else "—")
    return (f"{when(r.get('read_at'), '%Y-%m-%d %H:%M:%S')}  {r.get('reader_dept_name') or r.get('reader_dept', '')}  "
            f"{r.get('resource_id', '')}  {'、'.join(r.get('items') or [])}  授权：{grant}  "
            f"{r.get('verdict_zh', '')}  {r.get('misuse_case_id') or ''}").rstrip()


@app.command("list")
def access_list(
    resource: Annotated[str | None, typer.Option("--resource", help="数据资源编号：谁读取了该数据")] = None,
    grant: Annotated[int | None, typer.Option("--grant", help="共享授权编号：该授权下的读取")] = None,
    dept: Annotated[str | None, typer.Option("--dept", help="部门代码：该部门的读取")] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多条数（1–500）")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="跳过最新的若干条（翻页）")] = 0,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """读取记录，新的在前：时间、读取部门、数据资源、数据项、授权、结论、滥用核查案件。

    \b
    须且只能指定 --resource、--grant、--dept 之一。数源部门可查询其数据
    被谁读取（第二十五条），使用部门可查询本部门的读取，县大数据管理中心
    可查询全部。超出授权的读取由中心立案核查（第二十二条）。

    例：pdw access list --resource RES-GAJ-001 --as gaj.zhangfang
    """
    if sum(x is not None for x in (resource, grant, dept)) != 1:
        raise CliError("须且只能指定 --resource、--grant、--dept 之一（第二十五条）")
    page = call("GET", "/v1/access/reads", query={"resource": resource, "grant": grant, "dept": dept, "limit": limit,
                                                  "offset": offset or None},
                as_=as_)
    reads = page.get("reads") or []
    header = "时间  读取部门  数据资源  数据项  授权  结论  滥用核查案件"
    more = f"\n（还有更早的记录：加 --offset {page['next_offset']} 查看下一页）" if page.get("next_offset") else ""
    emit(page, as_json, lambda: "\n".join([header, *(_row(r) for r in reads)]) + more if reads else "（无读取记录）")
