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
        f"（{r.get('provider_name') or r.get('provider_code', '')}，{zh(r, 'share_attribute')}，"
        f"{zh(r, 'open_attribute')}）" for r in rows)
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
    answer = call("GET", f"/v1/catalog/{path_part(resource_id, '数据资源编号')}", as_=as_)
    emit(answer, as_json, lambda: render_versions(answer))


def render_versions(versions: list[dict[str, Any]]) -> str:
    """Each version with its elements: their Chinese names and labels as the API gives them."""
    current = next((v for v in versions if v.get("is_current")), versions[0] if versions else {})
    lines = [f"数据资源 {current.get('resource_id', '')} {current.get('name', '')}".rstrip()] if current else []
    for v in versions:
        lines.append(f"第 {v.get('version')} 版{'（现行）' if v.get('is_current') else ''}  "
                     f"{when(v.get('approved_at'), '%Y-%m-%d')}  {v.get('case_id') or '初始编目'}")
        elements = v.get("elements") or [{"field": f, "value": v.get(f)} for f in ELEMENTS]
        for e in elements:
            name, label, value = e.get("zh") or e.get("field"), e.get("label"), e.get("value")
            lines.append(f"  {name}：{label or value}")  # a code's label only: codes are for --set
        lines += [f"  {zh_name}：{v[f]}" for f, zh_name in (("share_reason", "受限理由"), ("share_basis", "法律依据"))
                  if v.get(f)]
        if v.get("forbidden_ground"):  # Art. 29: forbidden data always shows the ground it was classed on
            lines.append(f"  禁止开放情形：第二十九条第一款{zh(v, 'forbidden_ground')}")
        lines += entry_lines(v)
    return "\n".join(lines)


def entry_lines(v: dict[str, Any]) -> list[str]:
    """What requests are checked against (Art. 16, 20) and the source's 保密审查 record (Art. 39)."""
    items = v.get("items") or []
    lines = [f"  数据项：{'、'.join(str(i) for i in items) or '（未列）'}",
             f"  共享方式：{zh(v, 'share_modes') or '（不提供）'}"]
    if v.get("secrecy_reviewer") or v.get("secrecy_reviewed_on"):
        lines.append(f"  保密审查（第三十九条）：{v.get('secrecy_reviewer') or ''}，{v.get('secrecy_reviewed_on') or ''}，"
                     f"{zh(v, 'secrecy_conclusion')}")
    else:
        lines.append("  保密审查（第三十九条）：无记录")
    return lines


@app.command("register")
def catalog_register(
    resource_id: Annotated[str | None, typer.Option("--resource-id", help="数据资源编号，不填则生成 RES-部门代码-序号")] = None,
    name: Annotated[str | None, typer.Option("--name", help="数据名称")] = None,
    content: Annotated[str | None, typer.Option("--content", help="数据内容")] = None,
    encoding_format: Annotated[str | None, typer.Option("--encoding-format", help="编码格式，如 JSON、CSV")] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="提供单位（部门代码），默认本部门")] = None,
    share_attribute: Annotated[str | None, typer.Option(
        "--share-attribute", help="共享属性 unconditional、restricted、non_shared")] = None,
    open_attribute: Annotated[str | None, typer.Option(
        "--open-attribute", help="开放属性 unconditional、restricted、unopened、forbidden")] = None,
    update_frequency: Annotated[str | None, typer.Option(
        "--update-frequency", help="更新频度 realtime、daily、weekly、monthly、quarterly、yearly、irregular")] = None,
    share_reason: Annotated[str | None, typer.Option("--share-reason", help="受限共享的理由（第十五条）")] = None,
    share_basis: Annotated[str | None, typer.Option("--share-basis", help="受限或不予共享的法律依据（第十五条）")] = None,
    forbidden_ground: Annotated[str | None, typer.Option(
        "--forbidden-ground", help="禁止开放时：第二十九条第一款所列情形，如 secret_or_privacy")] = None,
    items: Annotated[str | None, typer.Option("--items", help="数据项，以、或逗号分隔")] = None,
    share_modes: Annotated[str | None, typer.Option("--share-modes", help="共享方式，如 verification、query")] = None,
    secrecy_reviewer: Annotated[str | None, typer.Option("--secrecy-reviewer", help="本部门保密审查人（第三十九条）")] = None,
    secrecy_reviewed_on: Annotated[str | None, typer.Option("--secrecy-reviewed-on", help="保密审查日期 YYYY-MM-DD")] = None,
    secrecy_conclusion: Annotated[str | None, typer.Option(
        "--secrecy-conclusion", help="保密审查结论 no_state_secret、declassified")] = None,
    not_collected: Annotated[bool, typer.Option("--not-collected", help="数据尚未归集到共享系统（第二十条）")] = False,
    as_: Annotated[str | None, AS_OPT] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """编制新的目录条目，报县大数据管理中心审核（第十条、第十一条）。

    须写明第十条的全部基本要素和数据项；共享或开放的数据须附本部门保密审查记录（第三十九条）。
    中心审核通过后发布为第 1 版，即可申请共享。

    \b
    例：pdw catalog register --name "养犬登记信息" \\
          --content "犬主姓名、犬只编号、登记日期" \\
          --items "犬主姓名、犬只编号、登记日期" --encoding-format JSON \\
          --share-attribute unconditional --open-attribute unopened \\
          --update-frequency monthly --share-modes "verification、query" \\
          --secrecy-reviewer 李军 --secrecy-reviewed-on 2026-11-20 \\
          --secrecy-conclusion no_state_secret --as gaj.zhangfang
    """
    body = body_of(input_, resource_id=resource_id, name=name, content=content, encoding_format=encoding_format,
                   provider_code=provider, share_attribute=share_attribute, open_attribute=open_attribute,
                   update_frequency=update_frequency, share_reason=share_reason, share_basis=share_basis,
                   forbidden_ground=forbidden_ground, items=items, share_modes=share_modes,
                   secrecy_reviewer=secrecy_reviewer, secrecy_reviewed_on=secrecy_reviewed_on,
                   secrecy_conclusion=secrecy_conclusion)
    if not_collected:
        body["collected"] = False
    result = call("POST", "/v1/cases/catalog-register", body=body, as_=as_)
    emit(result, as_json, lambda: f"{result['case_id']}\n已报送新编目录条目 {result.get('resource_id', '')}，"
                                  f"待县大数据管理中心审核；查看：pdw show {result['case_id']}")


@update_app.command("start")
def catalog_update_start(
    resource: Annotated[str | None, typer.Option("--resource", help="数据资源编号，如 RES-JYJ-001")] = None,
    note: Annotated[str | None, typer.Option("--note", help="哪项要素发生了什么变化")] = None,
    changed_at: Annotated[str | None, typer.Option("--changed-at", help="要素变化的日期或时间，默认现在")] = None,
    element: Annotated[list[str], typer.Option("--element", help="变化的要素，可重复：name content encoding_format provider_code share_attribute open_attribute update_frequency items share_modes")] = [],  # noqa: B006 - never mutated
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
