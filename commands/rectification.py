"""Rectification orders (Art. 46): ``pdw rectification propose|order|decline|report|check|accept|reorder``.
The decisions are ``pdw decide`` under their own names: the same route, the same decision ids."""

from __future__ import annotations

from typing import Annotated

import typer

from commands._client import AS_OPT, INPUT_OPT, JSON_OPT, body_of, call, emit
from commands.cases import decide

app = typer.Typer(help="责令改正（第四十六条）：中心建议，县人民政府或县大数据发展管理局责令改正并验收。",
                  no_args_is_help=True)
CASE_ARG = typer.Argument(help="责令改正案件编号")
DAYS_OPT = typer.Option("--days", help="改正期限（工作日，1–60）")


@app.command("propose")
def propose(
    dept: Annotated[str | None, typer.Option("--dept", help="被建议责令改正的部门代码")] = None,
    failing: Annotated[str | None, typer.Option("--failing", help="第四十六条所列情形 一 至 八，以英文逗号分隔")] = None,
    evidence: Annotated[str | None, typer.Option("--evidence", help="事实和证据")] = None,
    case: Annotated[list[str], typer.Option("--case", help="作为证据的案件编号，可重复")] = [],  # noqa: B006 - never mutated
    correct: Annotated[str | None, typer.Option("--correct", help="应当改正的事项")] = None,
    days: Annotated[int | None, DAYS_OPT] = None,
    to: Annotated[str | None, typer.Option("--to", help="责令改正机关：xzf（县人民政府，默认）或 dsjj（县大数据发展管理局）")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    input_: Annotated[str | None, INPUT_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """县大数据管理中心建议责令某部门改正（第四十六条）。

    \b
    情形：一 目录未编制或更新；二 未及时归集；三 数据不一致、未更新或
    无法使用；四 超出职责使用共享数据；五 未经批准商业开发；六 未记录
    受限开放的开放和利用全过程；七 未履行个人信息保护职责；八 其他。

    \b
    例：pdw rectification propose --dept gaj --failing 一,三 \\
          --evidence "目录逾期未更新" --case catalog-2026-000001 \\
          --correct "五个工作日内更新目录" --days 5 --to xzf --as dsj.zhouwei
    """
    body = body_of(input_, dept=dept, failings=failing, evidence=evidence, evidence_cases=case, correct=correct,
                   working_days=days, authority=to)
    result = call("POST", "/v1/cases/rectification", body=body, as_=as_)
    emit(result, as_json, lambda: f"{result['case_id']}\n已报请责令改正机关决定（第四十六条）；查看：pdw show {result['case_id']}")


@app.command("order")
def order(
    case_id: Annotated[str, CASE_ARG],
    days: Annotated[int | None, DAYS_OPT] = None,
    reasons: Annotated[str | None, typer.Option("--reasons", help="理由")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """责令改正（责令机关；可另定改正期限，第四十六条）。

    \b
    例：pdw rectification order rect-2026-000001 --days 10 --as xzf.wuminghui
    """
    _decide(case_id, "order", as_, reasons, [f"working_days={days}"] if days is not None else [], as_json)


@app.command("decline")
def decline(
    case_id: Annotated[str, CASE_ARG],
    reasons: Annotated[str | None, typer.Option("--reasons", help="理由（必填）")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """不予责令改正（责令机关，须写明理由；案件办结，第四十六条）。

    \b
    例：pdw rectification decline rect-2026-000001 \\
          --reasons "已自行整改" --as xzf.wuminghui
    """
    _decide(case_id, "decline_order", as_, reasons, [], as_json)


@app.command("report")
def report(
    case_id: Annotated[str, CASE_ARG],
    what: Annotated[str | None, typer.Option("--what", help="已采取的整改措施（必填）")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """报告整改情况（被责令改正的部门，第四十六条）。

    \b
    例：pdw rectification report rect-2026-000001 \\
          --what "已更新目录条目" --as gaj.zhangfang
    """
    _decide(case_id, "report_rectified", as_, what, [], as_json)


@app.command("check")
def check(
    case_id: Annotated[str, CASE_ARG],
    finding: Annotated[str | None, typer.Option("--finding", help="核查结论：done（已整改到位）或 not_done（未整改到位）")] = None,
    reasons: Annotated[str | None, typer.Option("--reasons", help="理由（必填）")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """核查整改情况（县大数据管理中心，第四十六条）。

    \b
    例：pdw rectification check rect-2026-000001 --finding done \\
          --reasons "目录已更新" --as dsj.zhouwei
    """
    _decide(case_id, "check_rectified", as_, reasons, [f"finding={finding}"] if finding else [], as_json)


@app.command("accept")
def accept(
    case_id: Annotated[str, CASE_ARG],
    reasons: Annotated[str | None, typer.Option("--reasons", help="理由")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """验收整改，结案（责令机关，须在中心核查之后，第四十六条）。

    \b
    例：pdw rectification accept rect-2026-000001 --as xzf.wuminghui
    """
    _decide(case_id, "accept_rectified", as_, reasons, [], as_json)


@app.command("reorder")
def reorder(
    case_id: Annotated[str, CASE_ARG],
    reasons: Annotated[str | None, typer.Option("--reasons", help="理由（必填）")] = None,
    days: Annotated[int | None, DAYS_OPT] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """再次责令改正（责令机关，须写明理由，第四十六条）。

    \b
    例：pdw rectification reorder rect-2026-000001 --days 5 \\
          --reasons "仍有两项未更新" --as xzf.wuminghui
    """
    _decide(case_id, "reorder", as_, reasons, [f"working_days={days}"] if days is not None else [], as_json)


def _decide(case_id: str, action: str, as_: str | None, reasons: str | None, data: list[str], as_json: bool) -> None:
    decide(case_id=case_id, action=action, as_=as_, reason=reasons, basis=None, set_=data, input_=None,
           decision_id=None, as_json=as_json)
