"""The working-day calendar: ``pdw calendar due|override|load``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from commands._client import AS_OPT, JSON_OPT, CliError, call, emit

app = typer.Typer(help="工作日日历：期限计算、县级调整、载入全年安排。", no_args_is_help=True)


@app.command("due")
def calendar_due(
    from_: Annotated[str, typer.Option("--from", help="触发事件的日期 YYYY-MM-DD（当日不计）")],
    working_days: Annotated[int, typer.Option("--working-days", help="工作日数")],
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """期限：自事件次日起第 N 个工作日，当日 24 时止。

    例：pdw calendar due --from 2026-09-28 --working-days 5
    """
    result = call("GET", "/v1/calendar/due", query={"from": from_, "working_days": working_days}, public=True)
    note = "（暂定：该年调休安排尚未公布）" if result.get("provisional") else ""
    emit(result, as_json, lambda: f"{result.get('due')} 24时止{note}")


@app.command("override")
def calendar_override(
    day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD")],
    *,
    workday: Annotated[bool, typer.Option("--workday", help="设为工作日")] = False,
    holiday: Annotated[bool, typer.Option("--holiday", help="设为休息日")] = False,
    note: Annotated[str, typer.Option("--note", help="依据或原因")],
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """县级调整某一天是否为工作日（优先于国务院安排）。

    例：pdw calendar override 2026-12-01 --holiday --note 台风停工
    """
    if workday == holiday:
        raise CliError("须且只能指定 --workday 或 --holiday 之一")
    result = call("POST", "/v1/calendar/overrides", body={"day": day, "workday": workday, "note": note}, as_=as_)
    emit(result, as_json, lambda: f"{day} 已设为{'工作日' if workday else '休息日'}：{note}\n{result.get('recount_zh')}")


@app.command("load")
def calendar_load(
    file: Annotated[Path, typer.Argument(help="全年安排 JSON 文件")],
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """载入国务院公布的全年节假日安排（含调休）。

    载入后该年的期限不再是暂定。

    例：pdw calendar load 2027.json
    """
    try:
        year_file = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CliError(f"无法读取全年安排文件 {file}：{err}") from err
    result = call("POST", "/v1/calendar/years", body=year_file, as_=as_)
    emit(result, as_json, lambda: f"已载入 {result.get('year')} 年安排：放假 {result.get('holidays')} 天，"
         f"调休上班 {result.get('workdays')} 天\n{result.get('recount_zh')}")
