"""Sharing (Art. 13–22): ``pdw share request``, ``pdw dispute open``, ``pdw grant list|renew|revoke``."""

from __future__ import annotations

from typing import Annotated

import typer

from commands._client import AS_OPT, INPUT_OPT, JSON_OPT, CliError, body_of, call, emit, path_part, when, zh

app = typer.Typer(help="数据共享申请（第十三条至第二十二条）。", no_args_is_help=True)
dispute_app = typer.Typer(help="争议协调（第二十条第二款、第二十八条第三款）。", no_args_is_help=True)
grant_app = typer.Typer(help="共享授权（第二十二条）。", no_args_is_help=True)


@app.command("request")
def share_request(
    resource: Annotated[str | None, typer.Option("--resource", help="数据资源编号")] = None,
    item: Annotated[list[str], typer.Option("--item", help="申请的数据项，可重复")] = [],  # noqa: B006 - never mutated
    purpose: Annotated[str | None, typer.Option("--purpose", help="共享用途")] = None,
    scope: Annotated[str | None, typer.Option("--scope", help="使用范围")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="共享方式：verification、query、batch")] = None,
    months: Annotated[int | None, typer.Option("--months", help="需要使用的月数（1–60）")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """使用部门提出数据共享申请（第十三条、第二十条）。

    共享方式：verification（核验）、query（查询）、batch（批量）。

    \b
    例：pdw share request --resource RES-SCJGJ-001 \\
          --item 统一社会信用代码 --item 名称 --purpose "企业开办审批核验" \\
          --scope "本局行政审批科" --mode query --months 12 --as gaj.zhangfang
    """
    body = body_of(input_, resource_id=resource, items=item, purpose=purpose, scope=scope, mode=mode, months=months)
    result = call("POST", "/v1/cases/share", body=body, as_=as_)
    emit(result, as_json, lambda: f"{result['case_id']}\n已提出共享申请；查看：pdw show {result['case_id']}")


@dispute_app.command("open")
def dispute_open(
    case: Annotated[str | None, typer.Option("--case", help="被拒绝的共享申请案件编号（第二十条第二款）")] = None,
    resource: Annotated[str | None, typer.Option("--resource", help="开放属性有争议的数据资源（第二十八条第三款）")] = None,
    open_attribute: Annotated[str | None, typer.Option("--open-attribute", help="中心建议的开放属性")] = None,
    forbidden_ground: Annotated[str | None, typer.Option(
        "--forbidden-ground", help="建议禁止开放时必填：第二十九条第一款所列情形")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="争议理由")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """申请协调：被拒绝的共享申请，或开放属性争议。

    \b
    --case：对被拒绝的共享申请申请协调（第二十条第二款）；
    --resource：中心与数源部门对开放属性意见不一（第二十八条第三款）。
    开放属性：unconditional、restricted、unopened（未开放）、forbidden
    （禁止开放，须以 --forbidden-ground 写明第二十九条情形：state_secret、
    security、secret_or_privacy、agreement_or_ip、law）。

    \b
    协调案件中（pdw decide 协调案件编号 操作）：中心 propose
    --set outcome=share（或 refuse）提出协调意见，双方部门均 agree
    方为协调一致；任一方 disagree 的，中心 escalate 报请县人民政府
    决定。本地规则：协调中任一方可 ask_county；对中心自身拒绝决定的
    争议直接由县人民政府决定。

    \b
    例：pdw dispute open --case share-2026-000001 \\
          --reason "用于法定职责，已说明依据" --as gaj.zhangfang
    例：pdw dispute open --resource RES-SCJGJ-002 \\
          --open-attribute unconditional --reason "中心建议无条件开放" \\
          --as dsj.zhouwei
    """
    if bool(case) == bool(resource):
        raise CliError("须且只能指定 --case（共享争议）或 --resource（开放属性争议）之一")
    if case:
        body = {"action": "dispute", "data": {}, **({"reasons": reason} if reason is not None else {})}
        result = call("POST", f"/v1/cases/{path_part(case, '案件编号')}/decisions", body=body, as_=as_)
        emit(result, as_json, lambda: f"{case}：{result.get('message', '')}；协调案件编号 dispute-{case}")
        return
    body = body_of(input_, resource_id=resource, open_attribute=open_attribute, reason=reason,
                   forbidden_ground=forbidden_ground)
    result = call("POST", "/v1/cases/dispute", body=body, as_=as_)
    emit(result, as_json, lambda: f"{result['case_id']}\n已报请专家委员会提出意见、县人民政府决定（第二十八条第三款）")


@grant_app.command("list")
def grant_list(
    dept: Annotated[str | None, typer.Option("--dept", help="部门代码（使用或数源）")] = None,
    resource: Annotated[str | None, typer.Option("--resource", help="数据资源编号")] = None,
    all_: Annotated[bool, typer.Option("--all", help="包括已过期和已撤销的授权")] = False,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """共享授权：状态、谁、哪些数据项、什么用途、方式、起止时间。

    \b
    状态：有效、已过期（超过有效期）、已撤销（第二十二条）。
    默认只列有效的授权，--all 包括已过期和已撤销的。
    依据第二十条、第二十二条。

    例：pdw grant list --dept jyj --all
    """
    grants = call("GET", "/v1/grants", query={"dept": dept, "resource": resource, "all": all_ or None}, as_=as_)
    emit(grants, as_json, lambda: "\n\n".join(
        f"授权 {g.get('id', '')}（{g.get('status_zh', '')}）  {g.get('resource_id', '')}  "
        f"{g.get('source_name') or g.get('source_code', '')} → {g.get('grantee_name') or g.get('grantee_code', '')}\n"
        f"  数据项：{'、'.join(g.get('items') or [])}；方式：{zh(g, 'mode')}{'（脱敏）' if g.get('desensitised') else ''}；"
        f"有效期：{when(g.get('valid_from'), '%Y-%m-%d')} 至 {when(g.get('valid_until'), '%Y-%m-%d')}\n"
        f"  用途：{g.get('purpose', '')}；范围：{g.get('scope', '')}；案件：{g.get('case_id', '')}"
        + (f"\n  已撤销：{g.get('revoke_reason', '')}" if g.get("revoked_at") else "")
        for g in grants) or ("（无共享授权）" if all_ else "（无有效的共享授权）"))


def grant_number(value: str) -> int:
    """A grant's number as typed: refused in Chinese, not by the parser's English."""
    if not value.strip().isdigit():
        raise CliError(f"授权编号“{value}”无效：须为 pdw grant list 中的数字")
    return int(value)


@grant_app.command("renew")
def grant_renew(
    grant_id: Annotated[str, typer.Argument(help="授权编号（pdw grant list 中的数字）")],
    months: Annotated[int | None, typer.Option("--months", help="续期的月数（1–60），默认同原申请")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="共享用途，默认同原授权")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """使用部门申请续期共享授权（第二十二条）。

    \b
    按原授权的数据资源、数据项、用途、范围、方式和月数
    提出新的共享申请，依现行目录重新审批（第二十条）；
    有效或已过期的授权均可续期，已撤销的不能。

    \b
    例：pdw grant renew 3 --months 12 --as jyj.panxiaoyu
    """
    body = {k: v for k, v in {"months": months, "purpose": purpose}.items() if v is not None}
    result = call("POST", f"/v1/grants/{grant_number(grant_id)}/renew", body=body, as_=as_)
    emit(result, as_json, lambda: f"{result['case_id']}\n已申请续期共享授权 {grant_id}；查看：pdw show {result['case_id']}")


@grant_app.command("revoke")
def grant_revoke(
    grant_id: Annotated[str, typer.Argument(help="授权编号（pdw grant list 中的数字）")],
    reason: Annotated[str, typer.Option("--reason", help="滥用或违规使用的情形")] = "",
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """县大数据管理中心立即撤销共享授权（第二十二条）。

    因滥用、非授权使用等情形撤销，使用部门即时停止使用。

    \b
    例：pdw grant revoke 3 --reason "将共享数据对外提供" \\
          --as dsj.zhouwei
    """
    grant = call("POST", f"/v1/grants/{grant_number(grant_id)}/revoke", body={"reason": reason}, as_=as_)
    emit(grant, as_json, lambda: f"共享授权 {grant.get('id', grant_id)} 已撤销"
         f"（{grant.get('grantee_code', '')}，{grant.get('resource_id', '')}）：{grant.get('revoke_reason', reason)}")
