"""The evaluation report (Art. 41) as people read it: html (Chinese, self-contained, printable, charts
drawn here as inline SVG whose labels stay text, so Chinese renders with the reader's own fonts),
xlsx a clerk can edit (one sheet per part, the ranking, 案件明细), and json with every case id."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pygal  # type: ignore[import-untyped]
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from activities.calendar import SHANGHAI
from activities.evaluation_figures import base_step
from models.evaluation import FIGURES, PARTS, REPORT_STATUS_ZH, EvaluationFigures, ReportTexts
from models.labels import DEPT_KIND_ZH
from models.steps import STEP_RULES

FORMATS = ("html", "xlsx", "json")
MEDIA = {"html": "text/html; charset=utf-8", "json": "application/json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# No web font: a list of CJK fonts the reader's system may have, then its default sans-serif.
CJK_FONTS = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
             '"WenQuanYi Micro Hei", "SimSun", sans-serif')
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    undefined=StrictUndefined, autoescape=select_autoescape(["html", "j2"]),
)


def _svg(chart: Any) -> str:
    """pygal's SVG for inline use: no XML declaration, and neither its config script nor its
    comments (which name web addresses): the page stays self-contained."""
    out = str(chart.render(is_unicode=True))
    out = re.sub(r"<script\b.*?</script>", "", out, flags=re.S)
    # Inline in HTML the svg element needs no namespace declaration: the page names no address at all.
    out = out.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
    return re.sub(r"<!--.*?-->", "", out, flags=re.S)


def _style() -> Style:
    return Style(font_family=CJK_FONTS, background="white", plot_background="white",
                 title_font_size=16, label_font_size=12, major_label_font_size=12, legend_font_size=12,
                 no_data_font_size=28)


NO_DATA = "本年度暂无应办环节"


def on_time_chart(f: EvaluationFigures) -> str:
    """A bar per department: its share of steps owed done on time (the ranking's basis)."""
    chart = pygal.Bar(js=[], disable_xml_declaration=True, style=_style(), width=900, height=420,
                      x_label_rotation=30, range=(0, 100), show_legend=False, print_values=True,
                      no_data_text=NO_DATA)
    chart.title = f"{f.year}年各部门应办环节按时办结率（%）"
    chart.x_labels = [e.name for e in f.ranking]
    chart.add("按时办结率", [round(100 * (e.owed - e.late) / e.owed, 1) if e.owed else None for e in f.ranking])
    return _svg(chart)


def trend_chart(f: EvaluationFigures) -> str:
    chart = pygal.Line(js=[], disable_xml_declaration=True, style=_style(), width=900, height=380,
                       legend_at_bottom=True, no_data_text="本年度暂无案件")
    chart.title = f"{f.year}年各月案件与逾期"
    chart.x_labels = [f"{m.month}月" for m in f.monthly]
    chart.add("新开案件", [m.opened.value for m in f.monthly])
    chart.add("逾期环节", [m.missed.value for m in f.monthly])
    return _svg(chart)


def ref_zh(ref: str) -> str:
    """A figure's id as people read it: the case with the step in Chinese, not its code."""
    if ref.startswith("role-"):
        return f"备案人员记录 {ref.split('-', 1)[1]}"
    if "#" in ref and ":" not in ref:  # an objection: listing-2026-000001#2
        case_id, seq = ref.split("#", 1)
        return f"{case_id} 第{seq}项复核申请"
    case_id, _, step = ref.partition(":")
    rule = STEP_RULES.get(base_step(step)) if step else None
    return f"{case_id}（{rule.zh}）" if rule else ref


def not_evaluated_zh(f: EvaluationFigures) -> str:
    """The line naming the county's bodies the report does not evaluate (Art. 41 evaluates the departments)."""
    if not f.not_evaluated:
        return ""
    return f"不参与评估的单位：{'、'.join(f.not_evaluated)}（决定、监督或咨询机构，不属本报告评估对象）"


def html_context(f: EvaluationFigures, texts: ReportTexts, status: str, *, charts: bool = True) -> dict[str, Any]:
    """What the html template is rendered with (tests/test_texts.py renders it too, without charts)."""
    return {
        "f": f, "texts": texts, "status": status, "status_zh": REPORT_STATUS_ZH.get(status, status), "parts": PARTS,
        "labels": FIGURES, "kind_zh": DEPT_KIND_ZH, "ref_zh": ref_zh, "not_evaluated_zh": not_evaluated_zh(f),
        "computed": f.computed_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M"),
        "on_time_svg": on_time_chart(f) if charts else "", "trend_svg": trend_chart(f) if charts else "",
    }


def render_html(f: EvaluationFigures, texts: ReportTexts, status: str) -> str:
    return TEMPLATES.get_template("evaluation_report.html.j2").render(**html_context(f, texts, status))


def _widths(ws: Any, widths: list[int]) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _header(ws: Any, row: list[str]) -> None:
    ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"


def render_xlsx(f: EvaluationFigures, texts: ReportTexts, status: str) -> bytes:
    """A workbook a clerk can edit: a sheet per part (departments down, figures across), the
    ranking, the monthly trend, 案件明细 (each figure's case ids) and the center's texts."""
    wb = Workbook()
    about = wb.active
    about.title = "说明"
    about.append(["项目", "内容"])
    for row in (["年度", str(f.year)], ["状态", REPORT_STATUS_ZH.get(status, status)],
                ["依据", "《永嘉县公共数据共享开放管理暂行办法》第四十一条：组织管理、基础保障、数据共享、数据开放和数据利用"],
                ["评估范围", not_evaluated_zh(f)],
                ["排名计分方法", f.score_formula], ["改进意见", texts.advice or ""], ["备注", texts.remarks or ""]):
        about.append(row)
    _widths(about, [16, 100])
    for part, zh in PARTS.items():
        ws = wb.create_sheet(zh)
        if part == "basic":  # what pdw cannot know: the center fills it in
            ws.append(["基础保障（由县大数据管理中心填写）"])
            ws.append([texts.basic_guarantee or ""])
            _widths(ws, [100])
            continue
        labels = FIGURES[part]
        _header(ws, ["部门", "部门类别", *labels.values()])
        for d in f.departments:
            ws.append([d.name, DEPT_KIND_ZH.get(d.kind, d.kind), *(d.parts[part][k].value for k in labels)])
        _widths(ws, [24, 16, *([18] * len(labels))])
    ws = wb.create_sheet("排名")
    _header(ws, ["名次", "部门", "应办环节", "逾期环节", "其中法定时限逾期", "得分"])
    for e in f.ranking:
        ws.append([e.rank if e.rank is not None else "不计分", e.name, e.owed, e.late, e.statutory_late,
                   e.score if e.score is not None else ""])
    _widths(ws, [10, 24, 12, 12, 18, 10])
    ws = wb.create_sheet("月度趋势")
    _header(ws, ["月份", "新开案件", "逾期环节"])
    for m in f.monthly:
        ws.append([f"{m.month}月", m.opened.value, m.missed.value])
    _widths(ws, [10, 12, 12])
    ws = wb.create_sheet("案件明细")
    _header(ws, ["部门", "部分", "指标", "数值", "案件编号"])
    for d in f.departments:
        for part, labels in FIGURES.items():
            for key, label in labels.items():
                figure = d.parts[part][key]
                if figure.value:
                    ws.append([d.name, PARTS[part], label, figure.value, "、".join(figure.case_ids)])
    for m in f.monthly:
        for what, figure in (("新开案件", m.opened), ("逾期环节", m.missed)):
            if figure.value:
                ws.append(["（全县）", "月度趋势", f"{m.month}月{what}", figure.value, "、".join(figure.case_ids)])
    _widths(ws, [24, 12, 48, 8, 80])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def render_json(f: EvaluationFigures, texts: ReportTexts, status: str) -> dict[str, Any]:
    return {"status": status, "status_zh": REPORT_STATUS_ZH.get(status, status), **texts.model_dump(),
            "parts_zh": PARTS, "labels_zh": FIGURES, **f.model_dump(mode="json")}
