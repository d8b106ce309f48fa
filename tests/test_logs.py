"""Logs keep secrets: identity numbers, credit codes, mobile numbers and e-mail addresses are masked
wherever they stand in a log event (logs.mask_secrets) or a standard-library record; a run of real
work (open-data applications through the API, the worker deciding nothing but notifying) leaves no
applicant's number, phone or e-mail in any line it logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest
import structlog

from logs import MaskingFormatter, configure_logging, mask_secrets, mask_text
from models.identity import resident_id_check, uscc_check
from tests.helpers import STARTED
from tests.test_api import api  # noqa: F401 - the API in-process, beside a worker

RESIDENT = "33030219900307123" + resident_id_check("33030219900307123")
USCC = "91330324MA2H0Q3K0" + uscc_check("91330324MA2H0Q3K0")
MOBILE, EMAIL = "13967781234", "zhangsan.work@example.com"


def test_each_kind_is_masked_in_a_message_and_keeps_enough_to_tell_them_apart() -> None:
    line = f"申请人身份证{RESIDENT}，单位代码{USCC}，手机{MOBILE}，邮箱{EMAIL}。"
    masked = mask_text(line)
    for secret in (RESIDENT, USCC, MOBILE, EMAIL):
        assert secret not in masked
    assert f"{RESIDENT[:4]}**********{RESIDENT[-4:]}" in masked and f"{USCC[:4]}**********{USCC[-4:]}" in masked
    assert "139****1234" in masked and "z***@example.com" in masked and masked.startswith("申请人身份证3303")
    assert mask_text(RESIDENT[:17] + "x") == RESIDENT[:4] + "*" * 10 + RESIDENT[14:17] + "x"  # a lower-case check
    assert mask_text("+86" + MOBILE) == "+86139****1234"


def test_nested_values_and_context_are_masked_and_the_rest_left_alone() -> None:
    event = {
        "event": f"notice_sent to {EMAIL}",
        "case_id": "open-2026-000123",
        "dept": "jyj", "resource": "RES-MZJ-001", "date": "2026-03-07", "at": "2026-03-07T08:15:30.123456+00:00",
        "applicant": {"contact": MOBILE, "ids": [RESIDENT, ("uscc", USCC)], "count": 13967781234},
        "error": ValueError(f"bad {MOBILE}"),
        "grant_id": 42, "ok": True, "none": None,
    }
    out = mask_secrets(None, "info", event)
    rendered = json.dumps(out, ensure_ascii=False, default=repr)
    for secret in (RESIDENT, USCC, MOBILE, EMAIL):
        assert secret not in rendered
    assert out["applicant"]["contact"] == "139****1234" and out["event"] == "notice_sent to z***@example.com"
    assert out["error"] == "ValueError('bad 139****1234')" and out["applicant"]["count"] == "139****1234"
    for kept in ("case_id", "dept", "resource", "date", "at", "grant_id", "ok", "none"):
        assert out[kept] == event[kept], kept
    # Numbers that are not one of the four: a case number, a row id, an 18-character token failing its check.
    for plain in ("catalog-2026-000001", "share-2026-004321", "id=139", "91330324MA2H0Q3K0Z", "20260307081530123"):
        assert mask_text(plain) == plain


def test_standard_library_records_are_masked_message_arguments_and_trace() -> None:
    formatter = MaskingFormatter()
    try:
        raise RuntimeError(f"row for {RESIDENT} refused")
    except RuntimeError:
        record = logging.LogRecord("temporalio.activity", logging.WARNING, __file__, 1, "contact %s failed",
                                   (EMAIL,), sys.exc_info())
    text = formatter.format(record)
    assert "z***@example.com" in text and "RuntimeError" in text
    assert EMAIL not in text and RESIDENT not in text


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], str]]:
    """The logging the worker and the API set up (logs.configure_logging, at DEBUG: every line the
    SDK has to say too), on a standard error of the test's own. Put back afterwards."""
    stream = io.StringIO()
    before, root = structlog.get_config(), logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    for handler in handlers:  # as in a process of its own: no handler yet (pytest's come back after)
        root.removeHandler(handler)
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("DEBUG")
    structlog.configure(cache_logger_on_first_use=False)  # loggers already used must write here too
    try:
        yield stream.getvalue
    finally:
        structlog.configure(**before)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


async def test_a_run_of_open_applications_logs_no_applicant_data(
    api: httpx.AsyncClient, captured: Callable[[], str]  # noqa: F811 - the fixture
) -> None:
    base = {"resource_id": "RES-MZJ-001", "scope": "学术研究", "purpose": "研究救助政策效果", "access_way": "api"}
    person = await api.post("/v1/public/open-applications", json={
        **base, "name": "王小明", "id_type": "resident_id", "id_number": RESIDENT, "contact": MOBILE})
    company = await api.post("/v1/public/open-applications", json={
        **base, "name": "永嘉某科技有限公司", "id_type": "uscc", "id_number": USCC, "contact": EMAIL})
    assert person.status_code == company.status_code == 201, (person.text, company.text)
    cases = [person.json()["case_id"], company.json()["case_id"]]
    STARTED.extend(cases)
    # Real work logs: the center is told of each application (notice lines naming the case).
    end = asyncio.get_running_loop().time() + 20
    while not all(case in captured() for case in cases):
        assert asyncio.get_running_loop().time() < end, f"no log line names {cases}: {captured()[-2000:]}"
        await asyncio.sleep(0.2)
    # And what does try to log such data, through either road, comes out masked.
    structlog.get_logger("pdw.api").warning("probe", contact=MOBILE, detail={"id_number": RESIDENT})
    logging.getLogger("temporalio.activity").warning("probe %s %s", EMAIL, USCC)
    output = captured()
    assert "139****1234" in output and "z***@example.com" in output and RESIDENT[:4] + "**********" in output
    lines = output.splitlines()
    assert len(lines) >= 4
    for line in lines:
        for secret in (RESIDENT, USCC, MOBILE, EMAIL):
            assert secret not in line, line
