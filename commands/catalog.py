"""The catalog (Art. 10) and its update cases (Art. 11): ``pdw catalog``, ``pdw catalog-update``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commands._client import AS_OPT, INPUT_OPT, JSON_OPT, body_of, call, emit, path_part, when, zh

app = typer.Typer(help="数据资源目录（第十条）。", no_args_is_help=True)
update_app = typer.Typer(help="目录更新案件（第十一条）。", no_args_is_help=True)

# Art. 10's elements, in case the API's answer carries no ``elements`` with their Chinese names.
ELEMENTS = ("name", "content", "encoding_format", "provider_code", "share_attribute", "open_attribute",
            "update_frequency")


@app.command("list")
def catalog_list(
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """目录中的数据资源及其现行版本。

    例：pdw catalog list --json
    """
    rows = call("GET", "/v1/catalog", as_=as_)
    emit(rows, as_json, lambda: "\n".join(
        f"{r.get('resource_id', ''):<14} v{r.get('version', '')}  {r.get('name', '')}"
        f"（{r.get('provider_name') or r.get('provider_code', '')}，{zh(r, 'share_attribute')}）" for r in rows)
        or "（目录为空）")


@app.command("show")
def catalog_show(
    resource_id: Annotated[str, typer.Argument(help="数据资源编号")],
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """一条目录的全部版本（每次审核通过的修订都保留）。

    例：pdw catalog show RES-JYJ-001
    """
    answer = call("GET", f"/v1/catalog/{path_part(resource_id)}", as_=as_)
    emit(answer, as_json, lambda: render_versions(answer))


def render_versions(versions: list[dict[str, Any]]) -> str:
    """Each version with its elements: their Chinese names and labels as the API gives them."""
    lines = []
    for v in versions:
        lines.append(f"第 {v.get('version')} 版{'（现行）' if v.get('is_current') else ''}  "
                     f"{when(v.get('approved_at'), '%Y-%m-%d')}  {v.get('case_id') or '初始编目'}")
        elements = v.get("elements") or [{"field": f, "value": v.get(f)} for f in ELEMENTS]
        for e in elements:
            name, label, value = e.get("zh") or e.get("field"), e.get("label"), e.get("value")
            lines.append(f"  {name}：{label or value}")  # a code's label only: codes are for --set
        lines += [f"  {zh_name}：{v[f]}" for f, zh_name in (("share_reason", "受限理由"), ("share_basis", "法律依据"))
                  if v.get(f)]
    return "\n".join(lines)


@update_app.command("start")
def catalog_update_start(
    resource: Annotated[str | None, typer.Option("--resource", help="数据资源编号，如 RES-JYJ-001")] = None,
    note: Annotated[str | None, typer.Option("--note", help="哪项要素发生了什么变化")] = None,
    changed_at: Annotated[str | None, typer.Option("--changed-at", help="要素变化的日期或时间，默认现在")] = None,
    element: Annotated[list[str], typer.Option("--element", help="变化的要素，如 content，可重复")] = [],  # noqa: B006 - never mutated
    as_: Annotated[str | None, AS_OPT] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """登记一项目录更新（第十一条）。

    数据资源要素变化后，数源部门须在 5 个工作日内更新目录。

    \b
    例：pdw catalog-update start --resource RES-JYJ-001 \\
          --note "在校生数口径调整" --element content --as jyj.panxiaoyu
    """
    body = body_of(input_, resource_id=resource, change_note=note, changed_at=changed_at, changed_elements=element)
    result = call("POST", "/v1/cases/catalog-update", body=body, as_=as_)
    emit(result, as_json, lambda: f"{result['case_id']}\n已登记目录更新，期限由工作流计算；查看：pdw show {result['case_id']}")
