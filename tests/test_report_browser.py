"""The evaluation report (Art. 41) as a reader's browser shows it: headless Chromium opens the html
from a file (no server, no network), renders its SVG charts with their Chinese labels as text, loads
nothing from elsewhere, prints it, and a screenshot is kept (tests/artifacts, as test_e2e.py keeps its)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from activities.evaluation_figures import compute
from models.evaluation import ReportTexts
from service.report_render import render_html
from tests.browser import ARTIFACTS, Browser, require_browser
from tests.test_evaluation_report import YEAR, year  # noqa: F401  (the known year's records, a fixture)


@pytest.mark.usefixtures("year")
def test_art41_report_opens_in_a_browser_self_contained_with_its_charts(tmp_path: Path) -> None:
    require_browser()
    figures = compute(YEAR)
    page = tmp_path / "evaluation.html"
    page.write_text(render_html(figures, ReportTexts(advice="按第二十条按时答复共享申请。"), "draft"), encoding="utf-8")
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(page.as_uri())
        text = browser.text_when(f"{YEAR}年度永嘉县公共数据工作评估报告", "the report's title")
        assert all(d.name in text for d in figures.departments) and "改进意见" in text
        # The charts are inline SVG whose labels are text the browser sets in the reader's fonts.
        assert browser.js("document.querySelectorAll('svg').length") >= 2
        labels = browser.js("[...document.querySelectorAll('svg text')].map(t => t.textContent).join(' ')")
        assert "按时办结率" in labels and "月" in labels
        assert browser.js("document.querySelector('svg').getBoundingClientRect().width") > 300
        # Self-contained: the page fetched nothing beyond itself.
        assert browser.js("performance.getEntriesByType('resource').length") == 0
        shot = tmp_path / "evaluation-report.png"
        browser.screenshot(shot)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "evaluation-report.png").write_bytes(shot.read_bytes())
        # Printable: the print stylesheet lays it out on A4 pages.
        pdf = base64.b64decode(browser.send("Page.printToPDF", {"preferCSSPageSize": True})["data"])
        assert pdf[:4] == b"%PDF" and pdf.count(b"/Type /Page") >= 2
    finally:
        browser.close()
    assert shot.stat().st_size > 10_000
