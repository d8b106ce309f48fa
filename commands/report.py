"""The yearly evaluation report (Art. 41): ``pdw report evaluation|draft|publish|list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from commands._client import AS_OPT, JSON_OPT, CliError, call, emit, os_error_zh, when

app = typer.Typer(help="年度评估报告（第四十一条）：统计、起草、发布。", no_args_is_help=True)

YEAR_OPT = typer.Option("--year", help="年度，如 2026")
FORMATS = ("html", "xlsx", "json")


def _read_text(path: str | None, option: str) -> str | None:
    """A text the center wrote, from a UTF-8 file."""
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise CliError(f"{option}：找不到文件 {path}") from err
    except UnicodeDecodeError as err:
        raise CliError(f"{option}：无法读取文件 {path}（须为 UTF-8 编码的文字）") from err
    except OSError as err:
        raise CliError(f"{option}：无法读取文件“{path}”（{os_error_zh(err)}）") from err


@app.command("evaluation")
def evaluation(
    year: Annotated[int, YEAR_OPT],
    out: Annotated[str, typer.Option("--out", help="写入的文件，如 报告.html")],
    format_: Annotated[str | None, typer.Option("--format", help="html、xlsx 或 json（默认按 --out 的扩展名，否则 html）")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
) -> None:
    """导出年度评估报告（第四十一条）。

    五个部分：组织管理、基础保障、数据共享、数据开放和数据利用，各部门的数字均可追溯到案件编号。
    已发布的报告任何工作人员都可导出；未发布的（草稿或即时统计）只有县大数据管理中心、
    县大数据发展管理局和县人民政府可以导出。

    例：

    \b
    pdw report evaluation --year 2026 --out 报告.html
    pdw report evaluation --year 2026 --format xlsx --out 报告.xlsx
    """
    if not out.strip():
        raise CliError("--out：须写明要写入的文件名，如 报告.html")
    fmt = format_ or (Path(out).suffix.lstrip(".").lower() if Path(out).suffix.lstrip(".").lower() in FORMATS else "html")
    if fmt not in FORMATS:
        raise CliError(f"--format：“{fmt}”无效，可选 html、xlsx、json")
    body = call("GET", f"/v1/reports/evaluation/{year}", query={"format": fmt}, as_=as_, as_bytes=True)
    try:
        Path(out).write_bytes(body or b"")
    except OSError as err:
        raise CliError(f"--out：无法写入文件“{out}”（{os_error_zh(err)}）") from err
    typer.echo(f"已写入 {out}（{year}年度评估报告，{fmt}）")


@app.command("draft")
def draft(
    year: Annotated[int, YEAR_OPT],
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """起草或刷新评估报告草稿（县大数据管理中心）。

    每年一月 pdw-evaluation-report 定时任务也会起草上一年度的草稿。已发布的报告不能重新起草。

    例：pdw report draft --year 2026
    """
    result = call("POST", f"/v1/reports/evaluation/{year}/draft", body={}, as_=as_)
    emit(result, as_json, lambda: str(result.get("message", "")))


@app.command("publish")
def publish(
    year: Annotated[int, YEAR_OPT],
    advice_file: Annotated[str | None, typer.Option("--advice-file", help="改进意见（必填，UTF-8 文字文件）")] = None,
    basic_file: Annotated[str | None, typer.Option("--basic-file", help="基础保障情况（必填，UTF-8 文字文件）")] = None,
    remarks_file: Annotated[str | None, typer.Option("--remarks-file", help="备注（UTF-8 文字文件）")] = None,
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """发布评估报告（县大数据管理中心主要负责人或分管领导，第四十一条）。

    须附基础保障情况和改进意见；发布后数字和全文固定，不能更改，公众可在公开页面查看。

    例：

    \b
    pdw report publish --year 2026 --advice-file 意见.txt --basic-file 保障.txt
    """
    if advice_file is None:
        raise CliError("--advice-file：须提供改进意见（第四十一条要求评估报告提出改进意见）")
    if basic_file is None:
        raise CliError("--basic-file：须提供基础保障情况（第四十一条：评估报告包括基础保障，由县大数据管理中心填写）")
    body: dict[str, Any] = {"advice": _read_text(advice_file, "--advice-file"),
                            "basic_guarantee": _read_text(basic_file, "--basic-file"),
                            "remarks": _read_text(remarks_file, "--remarks-file")}
    result = call("POST", f"/v1/reports/evaluation/{year}/publish",
                  body={k: v for k, v in body.items() if v is not None}, as_=as_)
    emit(result, as_json, lambda: str(result.get("message", "")))


@app.command("list")
def listing(
    as_: Annotated[str | None, AS_OPT] = None,
    as_json: Annotated[bool, JSON_OPT] = False,
) -> None:
    """各年度评估报告及其状态。

    例：pdw report list
    """
    rows = call("GET", "/v1/reports", as_=as_)
    emit(rows, as_json, lambda: "\n".join(
        f"{r.get('year')}  {r.get('status_zh', '')}  起草 {when(r.get('drafted_at'))}"
        + (f"  发布 {when(r.get('published_at'))}" if r.get("published_at") else "") for r in rows) or "（还没有评估报告）")

