"""A sweep of bad input across the API (in-process) and ``pdw``: each refused with its status and one
Chinese line naming the field, and nothing written — every table counted before and after, no case
number used. Free text holding SQL or template text is not bad input: it is stored and echoed as
written (the last test); codes, ids and dates holding it are refused by their pattern."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlmodel import SQLModel, func, select

from activities.store import session
from models.auth import HookSignature
from models.cases import CaseCounter
from models.types import utcnow
from service.auth import signature
from tests.test_api import ERP_SECRET, SHARE, api, bearer, signed, token_for, track  # noqa: F401 - api: a fixture
from tests.test_commands import apdw, api_url, dev, home, one_error_line  # noqa: F401 - fixtures

# Applicant data that passes its checks (GB 11643 check digit, a mobile number).
APPLICANT = {"resource_id": "RES-MZJ-001", "name": "孙琳", "id_number": "330324197707071116", "contact": "13600000000",
             "scope": "研究", "purpose": "政策评估", "access_way": "api"}
CATALOG = {"resource_id": "RES-JYJ-001", "change_note": "在校生数统计口径调整", "changed_elements": ["content"]}
CORRECTION = {"resource_id": "RES-SCJGJ-001", "items": ["名称"], "found": "名称有误", "expected": "正确名称"}
DISPUTE = {"resource_id": "RES-JYJ-001", "open_attribute": "restricted", "reason": "建议受限开放"}
OVERRIDE = {"day": "2030-01-02", "workday": False, "note": "县政府通知"}
SQL = "x'; DROP TABLE case_counter; --"
JINJA = "{{ 7*7 }}{% for x in range(9) %}"
LONG = "长" * 2001
HUGE = "长" * 100_000
UNKNOWN_CASE = "share-2099-999999"
# No answer echoes a control character (line breaks aside: ``pdw`` ends its lines with one).
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")

# Who sends a case: a person (their token), "anon" (no credential), or "erp" (a system's signed
# key, bound to jyj, acting for jyj.panxiaoyu).
GAJ, CENTER, LEADER, JYJ = "gaj.zhangfang", "dsj.zhouwei", "dsj.linxiaohong", "jyj.panxiaoyu"


@dataclass
class Bad:
    name: str
    method: str
    path: str
    body: Any = None  # a dict (sent as JSON), bytes or str (sent as is), or None
    who: str = GAJ
    status: int = 400
    says: str = ""  # a fragment of the Chinese line (and the field it names)
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    field: str | None = None  # the problem's field, when it names one


def share(**kw: Any) -> dict[str, Any]:
    return {**SHARE, **kw}


def decision(**kw: Any) -> dict[str, Any]:
    return {"action": "approve", **kw}


DECIDE = f"/v1/cases/{UNKNOWN_CASE}/decisions"
CASES: list[Bad] = [
    # ---- share: unknown ids, empty and oversize text, numbers, enums, control characters ----
    Bad("share unknown resource", "POST", "/v1/cases/share", share(resource_id="RES-NOPE-999"), status=404,
        says="RES-NOPE-999"),
    Bad("share resource id SQL", "POST", "/v1/cases/share", share(resource_id=SQL), says="数据资源编号（resource_id）：只能含",
        field="resource_id"),
    Bad("share resource id Jinja", "POST", "/v1/cases/share", share(resource_id=JINJA), says="数据资源编号（resource_id）",
        field="resource_id"),
    Bad("share resource id empty", "POST", "/v1/cases/share", share(resource_id=""), says="数据资源编号（resource_id）：不能为空", field="resource_id"),
    Bad("share resource id 65 chars", "POST", "/v1/cases/share", share(resource_id="R" * 65),
        says="数据资源编号（resource_id）：不能超过 64 个字符", field="resource_id"),
    Bad("share no items", "POST", "/v1/cases/share", share(items=[]), says="数据项"),
    Bad("share blank items", "POST", "/v1/cases/share", share(items=["  "]), says="数据项"),
    Bad("share unknown item", "POST", "/v1/cases/share", share(items=["不存在的项"]), says="不存在的项"),
    Bad("share 101 items", "POST", "/v1/cases/share", share(items=["名称"] * 101), says="数据项（items）：最多 100 项",
        field="items"),
    Bad("share item NUL", "POST", "/v1/cases/share", share(items=["名\x00称"]), says="数据项（items）.0：不能含控制字符",
        field="items.0"),
    Bad("share item a number", "POST", "/v1/cases/share", share(items=[123]), says="数据项（items）.0：须为文字"),
    Bad("share items a string", "POST", "/v1/cases/share", share(items="名称"), says="数据项（items）：须为列表"),
    Bad("share purpose empty", "POST", "/v1/cases/share", share(purpose=""), says="用途"),
    Bad("share purpose blank", "POST", "/v1/cases/share", share(purpose="   "), says="用途"),
    Bad("share purpose 2001", "POST", "/v1/cases/share", share(purpose=LONG), says="用途（purpose）：不能超过 2000 个字符",
        field="purpose"),
    Bad("share purpose 100000", "POST", "/v1/cases/share", share(purpose=HUGE), says="用途（purpose）：不能超过 2000 个字符"),
    Bad("share purpose NUL", "POST", "/v1/cases/share", share(purpose="核验\x00身份"), says="用途（purpose）：不能含控制字符",
        field="purpose"),
    Bad("share purpose BEL", "POST", "/v1/cases/share", share(purpose="核验\x07"), says="用途（purpose）：不能含控制字符"),
    Bad("share purpose backspace", "POST", "/v1/cases/share", share(purpose="核验\x08\x08"),
        says="用途（purpose）：不能含控制字符"),
    Bad("share scope ESC", "POST", "/v1/cases/share", share(scope="\x1b[31m治安大队"), says="使用范围（scope）：不能含控制字符"),
    Bad("share scope DEL", "POST", "/v1/cases/share", share(scope="治安\x7f大队"), says="使用范围（scope）：不能含控制字符"),
    Bad("share scope empty", "POST", "/v1/cases/share", share(scope=""), says="使用范围"),
    Bad("share mode unknown", "POST", "/v1/cases/share", share(mode="teleport"), says="teleport"),
    Bad("share mode empty", "POST", "/v1/cases/share", share(mode=""), says="共享方式"),
    Bad("share mode SQL", "POST", "/v1/cases/share", share(mode=SQL), says="共享方式（mode）：只能含"),
    Bad("share months 0", "POST", "/v1/cases/share", share(months=0), says="使用月数（months）：须在允许范围内（≥ 1）",
        field="months"),
    Bad("share months 61", "POST", "/v1/cases/share", share(months=61), says="使用月数（months）：须在允许范围内（≤ 60）"),
    Bad("share months negative", "POST", "/v1/cases/share", share(months=-6), says="使用月数（months）"),
    Bad("share months 10^20", "POST", "/v1/cases/share", share(months=10**20), says="使用月数（months）"),
    Bad("share months text", "POST", "/v1/cases/share", share(months="六"), says="使用月数（months）：须为整数"),
    Bad("share months fraction", "POST", "/v1/cases/share", share(months=1.5), says="使用月数（months）：须为整数"),
    Bad("share months 1e308", "POST", "/v1/cases/share", b'{"resource_id": "RES-SCJGJ-001", "items": ["\\u540d\\u79f0"],'
        b' "purpose": "p", "scope": "s", "mode": "query", "months": 1e400}', says="使用月数（months）"),
    Bad("share months null", "POST", "/v1/cases/share", share(months=None), says="使用月数（months）：须为整数"),
    Bad("share unknown field", "POST", "/v1/cases/share", share(approved=True), says="approved：不认识的字段",
        field="approved"),
    Bad("share missing purpose", "POST", "/v1/cases/share", {k: v for k, v in SHARE.items() if k != "purpose"},
        says="用途（purpose）：缺少此项", field="purpose"),
    Bad("share as another person", "POST", "/v1/cases/share", share(**{"as": CENTER}), status=403, says="不能代表"),
    Bad("share as SQL", "POST", "/v1/cases/share", share(**{"as": SQL}), says="代表的备案人员（as）：只能含"),
    # ---- bodies that are not JSON objects ----
    Bad("malformed JSON", "POST", "/v1/cases/share", b'{"resource_id": "RES-SCJGJ-001", ', says="请求体不是有效的 JSON"),
    Bad("JSON trailing comma", "POST", "/v1/cases/share", b'{"months": 6,}', says="请求体不是有效的 JSON"),
    Bad("JSON array", "POST", "/v1/cases/share", b"[]", says="请求体须为对象"),
    Bad("JSON string", "POST", "/v1/cases/share", b'"share"', says="请求体须为对象"),
    Bad("JSON null", "POST", "/v1/cases/share", b"null", says="请求体须为对象"),
    Bad("empty body", "POST", "/v1/cases/share", b"", says="请求体缺少此项"),
    Bad("not UTF-8", "POST", "/v1/cases/share", b'{"purpose": "\xff\xfe"}', says="请求体不是有效的 JSON"),
    Bad("text/plain body", "POST", "/v1/cases/share", json.dumps(SHARE, ensure_ascii=False),
        headers={"Content-Type": "text/plain"}, says="请求体"),
    Bad("form body", "POST", "/v1/cases/share", "resource_id=RES-SCJGJ-001&months=6",
        headers={"Content-Type": "application/x-www-form-urlencoded"}, says="请求体"),
    Bad("XML body", "POST", "/v1/cases/share", "<share><months>6</months></share>",
        headers={"Content-Type": "application/xml"}, says="请求体"),
    Bad("body over 1 MiB", "POST", "/v1/cases/share", share(purpose="x" * (1 << 20)), status=413, says="请求体超过 1 MiB"),
    # ---- other starts ----
    Bad("catalog date 30 Feb", "POST", "/v1/cases/catalog-update", {**CATALOG, "changed_at": "2026-02-30"}, who=JYJ,
        says="变化时间（changed_at）“2026-02-30”格式错误", field="changed_at"),
    Bad("catalog date words", "POST", "/v1/cases/catalog-update", {**CATALOG, "changed_at": "yesterday"}, who=JYJ,
        says="格式错误", field="changed_at"),
    Bad("catalog date future", "POST", "/v1/cases/catalog-update", {**CATALOG, "changed_at": "2099-01-01"}, who=JYJ,
        says="变化时间（changed_at）不能晚于现在", field="changed_at"),
    Bad("catalog date SQL", "POST", "/v1/cases/catalog-update", {**CATALOG, "changed_at": SQL}, who=JYJ,
        says="格式错误", field="changed_at"),
    Bad("catalog unknown element", "POST", "/v1/cases/catalog-update", {**CATALOG, "changed_elements": ["colour"]},
        who=JYJ, says="变化的要素（changed_elements）“colour”", field="changed_elements"),
    Bad("catalog note empty", "POST", "/v1/cases/catalog-update", {**CATALOG, "change_note": " "}, who=JYJ,
        says="变化说明（change_note）不能为空", field="change_note"),
    Bad("catalog unknown resource", "POST", "/v1/cases/catalog-update", {**CATALOG, "resource_id": "RES-NOPE-1"}, who=JYJ,
        status=404, says="RES-NOPE-1"),
    Bad("correction found empty", "POST", "/v1/cases/correction", {**CORRECTION, "found": ""}, says="发现的问题"),
    Bad("correction proof not bool", "POST", "/v1/cases/correction", {**CORRECTION, "proof_provided": "perhaps"},
        says="已提供证明材料（proof_provided）：须为 true 或 false"),
    Bad("correction unknown resource", "POST", "/v1/cases/correction", {**CORRECTION, "resource_id": "RES-NOPE-2"},
        status=404, says="RES-NOPE-2"),
    Bad("dispute attribute unknown", "POST", "/v1/cases/dispute", {**DISPUTE, "open_attribute": "secret"}, who=CENTER,
        says="开放属性（open_attribute）“secret”无效", field="open_attribute"),
    Bad("dispute reason NUL", "POST", "/v1/cases/dispute", {**DISPUTE, "reason": "\x00"}, who=CENTER,
        says="理由（reason）：不能含控制字符"),
    Bad("dispute reason empty", "POST", "/v1/cases/dispute", {**DISPUTE, "reason": ""}, who=CENTER,
        says="理由（reason）不能为空", field="reason"),
    # ---- decisions and reading cases ----
    Bad("decide unknown case", "POST", DECIDE, decision(), who=CENTER, status=404, says=UNKNOWN_CASE),
    Bad("decide case id SQL", "POST", "/v1/cases/x' OR '1'='1/decisions", decision(), who=CENTER,
        says="案件编号（case_id）：只能含", field="case_id"),
    Bad("decide case id Jinja", "POST", "/v1/cases/{{7*7}}/decisions", decision(), who=CENTER, says="案件编号（case_id）"),
    Bad("decide case id 65", "POST", f"/v1/cases/{'c' * 65}/decisions", decision(), who=CENTER,
        says="案件编号（case_id）：不能超过 64 个字符"),
    Bad("decide data nested", "POST", DECIDE, decision(data={"a": {"b": 1}}), who=CENTER, says="数据项（data）：a 须为文字、数字或真假值",
        field="data"),
    Bad("decide data 51 keys", "POST", DECIDE, decision(data={f"k{i}": i for i in range(51)}), who=CENTER,
        says="数据项（data）：最多 50 项"),
    Bad("decide data long value", "POST", DECIDE, decision(data={"a": LONG}), who=CENTER,
        says="数据项（data）：a 不能超过 2000 个字符"),
    Bad("decide data key NUL", "POST", DECIDE, decision(data={"a\x00": 1}), who=CENTER, says="数据项（data）：项名不能含控制字符"),
    Bad("decide data NaN", "POST", DECIDE, b'{"action": "approve", "data": {"a": NaN}}', who=CENTER,
        says="数据项（data）：a 须为有限数值"),
    Bad("decide reasons BEL", "POST", DECIDE, decision(reasons="不同意\x07"), who=CENTER, says="理由（reasons）：不能含控制字符"),
    Bad("decide reasons 2001", "POST", DECIDE, decision(reasons=LONG), who=CENTER, says="理由（reasons）：不能超过 2000 个字符"),
    Bad("decide action SQL", "POST", DECIDE, decision(action=SQL), who=CENTER, says="操作（action）：只能含"),
    Bad("decide decision id short", "POST", DECIDE, decision(decision_id="d-1"), who=CENTER,
        says="决定编号（decision_id）：不能少于 8 个字符"),
    Bad("decide decision id space", "POST", DECIDE, decision(decision_id="d 123456789"), who=CENTER,
        says="决定编号（decision_id）：只能含"),
    Bad("decision status unknown case", "GET", f"/v1/cases/{UNKNOWN_CASE}/decisions/d-12345678", who=CENTER, status=404,
        says=UNKNOWN_CASE),
    Bad("decision status id short", "GET", f"/v1/cases/{UNKNOWN_CASE}/decisions/d-1", who=CENTER,
        says="决定编号（decision_id）：不能少于 8 个字符"),
    Bad("show unknown case", "GET", f"/v1/cases/{UNKNOWN_CASE}", who=CENTER, status=404, says=UNKNOWN_CASE),
    Bad("show case id NUL", "GET", "/v1/cases/share%00-2026", who=CENTER, says="案件编号（case_id）：只能含"),
    Bad("inbox unknown dept", "GET", "/v1/inbox", params={"dept": "xyz"}, who=CENTER, status=404, says="xyz"),
    Bad("inbox no dept", "GET", "/v1/inbox", who=CENTER, says="部门代码（dept）：缺少此项", field="dept"),
    Bad("inbox dept SQL", "GET", "/v1/inbox", params={"dept": "gaj' --"}, who=CENTER, says="部门代码（dept）：只能含"),
    Bad("inbox dept 33", "GET", "/v1/inbox", params={"dept": "d" * 33}, who=CENTER, says="部门代码（dept）：不能超过 32 个字符"),
    Bad("stuck idle days negative", "GET", "/v1/stuck", params={"idle_days": -1}, who=CENTER, says="无进展天数（idle_days）：须在允许范围内"),
    Bad("stuck idle days text", "GET", "/v1/stuck", params={"idle_days": "十"}, who=CENTER, says="无进展天数（idle_days）：须为整数"),
    Bad("stuck idle days huge", "GET", "/v1/stuck", params={"idle_days": 10**30}, who=CENTER, says="idle_days"),
    # ---- the calendar, the catalog and lists ----
    Bad("due 30 Feb", "GET", "/v1/calendar/due", params={"from": "2026-02-30", "working_days": 5}, who="anon",
        says="2026-02-30"),
    Bad("due date words", "GET", "/v1/calendar/due", params={"from": "tomorrow", "working_days": 5}, who="anon",
        says="tomorrow"),
    Bad("due date 11 chars", "GET", "/v1/calendar/due", params={"from": "2026-02-011", "working_days": 5}, who="anon",
        says="起算日期（from）：不能超过 10 个字符"),
    Bad("due working days text", "GET", "/v1/calendar/due", params={"from": "2026-02-02", "working_days": "五"},
        who="anon", says="工作日数（working_days）：须为整数"),
    Bad("due working days negative", "GET", "/v1/calendar/due", params={"from": "2026-02-02", "working_days": -5},
        who="anon", says="working_days"),
    Bad("due working days huge", "GET", "/v1/calendar/due", params={"from": "2026-02-02", "working_days": 10**12},
        who="anon", says="working_days"),
    Bad("due no date", "GET", "/v1/calendar/due", params={"working_days": 5}, who="anon", says="起算日期（from）：缺少此项", field="from"),
    Bad("catalog unknown entry", "GET", "/v1/catalog/RES-NOPE-3", who=JYJ, status=404, says="RES-NOPE-3"),
    Bad("catalog entry Jinja", "GET", "/v1/catalog/{{7*7}}", who=JYJ, says="数据资源编号（resource_id）"),
    Bad("grants dept SQL", "GET", "/v1/grants", params={"dept": SQL}, who=CENTER, says="部门代码（dept）：只能含"),
    Bad("grants all not bool", "GET", "/v1/grants", params={"all": "perhaps"}, who=CENTER, says="全部（all）：须为 true 或 false"),
    Bad("notices case SQL", "GET", "/v1/notices", params={"case": SQL}, who=CENTER, says="案件编号（case）：只能含"),
    Bad("me as SQL", "GET", "/v1/me", params={"as": SQL}, who=CENTER, says="代表的备案人员（as）：只能含"),
    # ---- administration ----
    Bad("revoke unknown grant", "POST", "/v1/grants/999999/revoke", {"reason": "停止使用"}, who=LEADER, status=404,
        says="999999"),
    Bad("revoke grant 0", "POST", "/v1/grants/0/revoke", {"reason": "停止使用"}, who=LEADER, says="共享授权编号（grant_id）：须在允许范围内"),
    Bad("revoke grant text", "POST", "/v1/grants/abc/revoke", {"reason": "停止使用"}, who=LEADER, says="共享授权编号（grant_id）：须为整数"),
    Bad("revoke grant 2^31", "POST", f"/v1/grants/{2**31}/revoke", {"reason": "停止使用"}, who=LEADER,
        says="共享授权编号（grant_id）：须在允许范围内"),
    Bad("revoke grant reason NUL", "POST", "/v1/grants/999999/revoke", {"reason": "\x00"}, who=LEADER,
        says="理由（reason）：不能含控制字符"),
    Bad("assign unknown dept", "POST", "/v1/departments/nope/roles", {"role": "daily_admin", "person_id": "nope.x",
                                                                     "name": "某人", "note": "x"}, who=LEADER, status=404,
        says="nope"),
    Bad("assign unknown role", "POST", "/v1/departments/jyj/roles", {"role": "emperor", "person_id": "jyj.x", "name": "某人",
                                                                    "note": "x"}, who=LEADER, says="emperor"),
    Bad("assign note BEL", "POST", "/v1/departments/jyj/roles", {"role": "daily_admin", "person_id": "jyj.x",
                                                                "note": "\x07"}, who=LEADER, says="依据（note）：不能含控制字符"),
    Bad("override 13th month", "POST", "/v1/calendar/overrides", {**OVERRIDE, "day": "2030-13-01"}, who=LEADER,
        says="2030-13-01"),
    Bad("override day words", "POST", "/v1/calendar/overrides", {**OVERRIDE, "day": "下周一"}, who=LEADER, says="下周一"),
    Bad("override workday text", "POST", "/v1/calendar/overrides", {**OVERRIDE, "workday": "perhaps"}, who=LEADER,
        says="是否工作日（workday）：须为 true 或 false"),
    Bad("override note 2001", "POST", "/v1/calendar/overrides", {**OVERRIDE, "note": LONG}, who=LEADER,
        says="依据（note）：不能超过 2000 个字符"),
    Bad("year 1999", "POST", "/v1/calendar/years", {"year": 1999, "title": "x"}, who=LEADER, says="年份（year）：须在允许范围内"),
    Bad("year holiday 30 Feb", "POST", "/v1/calendar/years",
        {"year": 2031, "title": "国务院办公厅通知", "holidays": [{"from": "2031-02-30"}]}, who=LEADER, says="2031-02-30"),
    Bad("year 61 holidays", "POST", "/v1/calendar/years",
        {"year": 2031, "title": "x", "holidays": [{"from": "2031-01-01"}] * 61}, who=LEADER, says="放假安排（holidays）：最多 60 项"),
    Bad("token unknown person", "POST", "/v1/tokens", {"person_id": "nobody.here"}, who=CENTER,
        says="nobody.here"),
    Bad("token days 0", "POST", "/v1/tokens", {"person_id": JYJ, "days": 0}, who=CENTER, says="有效天数（days）"),
    Bad("token days 367", "POST", "/v1/tokens", {"person_id": JYJ, "days": 367}, who=CENTER, says="有效天数（days）"),
    Bad("token revoke unknown", "POST", "/v1/tokens/999999/revoke", {}, who=CENTER, status=404, says="999999"),
    Bad("retry minutes negative", "POST", "/v1/notices/retry", {"older_than_minutes": -1}, who=CENTER,
        says="分钟数（older_than_minutes）"),
    Bad("digest force text", "POST", "/v1/notices/digest", {"force": "perhaps"}, who=CENTER, says="强制（force）"),
    # ---- the public ----
    Bad("open id number 12345", "POST", "/v1/public/open-applications", {**APPLICANT, "id_number": "12345"}, who="anon",
        says="证件号码"),
    Bad("open id number abc", "POST", "/v1/public/open-applications", {**APPLICANT, "id_number": "abc"}, who="anon",
        says="证件号码"),
    Bad("open id number check digit", "POST", "/v1/public/open-applications",
        {**APPLICANT, "id_number": "330324197707071111"}, who="anon", says="GB 11643"),
    Bad("open contact abc", "POST", "/v1/public/open-applications", {**APPLICANT, "contact": "abc"}, who="anon",
        says="联系方式"),
    Bad("open id type unknown", "POST", "/v1/public/open-applications", {**APPLICANT, "id_type": "martian"}, who="anon",
        says="证件类型（id_type）“martian”无效"),
    Bad("open access way unknown", "POST", "/v1/public/open-applications", {**APPLICANT, "access_way": "telepathy"},
        who="anon", says="获取方式（access_way）“telepathy”无效"),
    Bad("open unknown resource", "POST", "/v1/public/open-applications", {**APPLICANT, "resource_id": "RES-NOPE-4"},
        who="anon", status=404, says="RES-NOPE-4"),
    Bad("open scope empty", "POST", "/v1/public/open-applications", {**APPLICANT, "scope": " "}, who="anon",
        says="使用范围（scope）不能为空"),
    Bad("open name empty", "POST", "/v1/public/open-applications", {**APPLICANT, "name": ""}, who="anon",
        says="申请人名称（name）不能为空"),
    Bad("open name backspace", "POST", "/v1/public/open-applications", {**APPLICANT, "name": "孙\x08琳"}, who="anon",
        says="名称（name）：不能含控制字符"),
    Bad("open request unknown resource", "POST", "/v1/public/open-requests",
        {"resource_id": "RES-NOPE-5", "name": "孙琳", "id_number": APPLICANT["id_number"], "contact": "13600000000"},
        who="anon", status=404, says="RES-NOPE-5"),
    Bad("open request contact bad", "POST", "/v1/public/open-requests",
        {"resource_id": "RES-GAJ-001", "name": "孙琳", "id_number": APPLICANT["id_number"], "contact": "abc"},
        who="anon", says="联系方式"),
    # Art. 32 counts one per person: the identity number is checked like an application's.
    Bad("open request id number missing", "POST", "/v1/public/open-requests",
        {"resource_id": "RES-JYJ-002", "name": "孙琳", "contact": "13600000000"}, who="anon", says="证件号码（id_number）"),
    Bad("open request id check digit", "POST", "/v1/public/open-requests",
        {"resource_id": "RES-JYJ-002", "name": "孙琳", "id_number": "330324197707071117", "contact": "13600000000"},
        who="anon", says="证件号码（id_number）校验位不符"),
    Bad("open other way without note", "POST", "/v1/public/open-applications", {**APPLICANT, "access_way": "other"},
        who="anon", says="获取方式说明（access_way_note）"),
    Bad("objection unknown case", "POST", "/v1/public/objections",
        {**{k: APPLICANT[k] for k in ("name", "id_number", "contact")}, "case_id": UNKNOWN_CASE, "reason": "答复有误"},
        who="anon", status=404, says=UNKNOWN_CASE),
    Bad("objection reason 2001", "POST", "/v1/public/objections",
        {**{k: APPLICANT[k] for k in ("name", "id_number", "contact")}, "case_id": UNKNOWN_CASE, "reason": LONG},
        who="anon", says="理由（reason）：不能超过 2000 个字符"),
    # ---- credentials and huge headers ----
    Bad("basic auth", "GET", "/v1/me", who="anon", headers={"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
        status=401, says="个人令牌格式不对：请完整复制 pdw token issue 签发的令牌"),
    Bad("bearer too short", "GET", "/v1/me", who="anon", headers={"Authorization": "Bearer abc"}, status=401,
        says="个人令牌格式不对：请完整复制 pdw token issue 签发的令牌"),
    Bad("bearer 100 KB", "GET", "/v1/me", who="anon", headers={"Authorization": "Bearer " + "a" * 100_000}, status=401,
        says="个人令牌格式不对：请完整复制 pdw token issue 签发的令牌"),
    Bad("bearer SQL", "GET", "/v1/me", who="anon", headers={"Authorization": "Bearer pdw_' OR 1=1 --"}, status=401,
        says="个人令牌格式不对：请完整复制 pdw token issue 签发的令牌"),
    Bad("bearer unknown", "GET", "/v1/me", who="anon", headers={"Authorization": "Bearer pdw_" + "x" * 40}, status=401,
        says="个人令牌无效"),
    Bad("idempotency key 129", "POST", "/v1/cases/share", SHARE, headers={"Idempotency-Key": "k" * 129},
        says="Idempotency-Key 须为 1 至 128 个可见 ASCII 字符", field="Idempotency-Key"),
    Bad("idempotency key 100 KB", "POST", "/v1/cases/share", SHARE, headers={"Idempotency-Key": "k" * 100_000},
        says="Idempotency-Key 须为"),
    Bad("idempotency key space", "POST", "/v1/cases/share", SHARE, headers={"Idempotency-Key": "two words"},
        says="Idempotency-Key 须为"),
    Bad("pdw key 100 KB", "GET", "/v1/me", who="anon", headers={"X-Pdw-Key": "k" * 100_000, "X-Pdw-Timestamp": "1",
                                                                "X-Pdw-Signature": "0" * 64}, status=401,
        says="缺少或无效的 X-Pdw-Key"),
    Bad("anonymous share", "POST", "/v1/cases/share", SHARE, who="anon", status=401, says="须登录"),
    Bad("unknown route", "GET", "/v1/nope", who=CENTER, status=404, says="没有这个接口"),
    Bad("wrong method", "PUT", "/v1/cases/share", who=CENTER, status=405, says="该接口不支持此方法"),
]

# Signed requests (the erp key, bound to jyj): each tampered with in one way after signing.
SIGNED: list[tuple[str, str, int, str]] = [
    ("signature wrong", "signature", 401, "签名无效"),
    ("signature not hex", "signature-text", 401, "缺少或无效的 X-Pdw-Key"),
    ("signature 100 KB", "signature-huge", 401, "缺少或无效的 X-Pdw-Key"),
    ("timestamp an hour old", "old", 401, "有效期"),
    ("timestamp an hour ahead", "ahead", 401, "有效期"),
    ("timestamp text", "timestamp-text", 401, "缺少或无效的 X-Pdw-Key"),
    ("timestamp missing", "timestamp-missing", 401, "缺少或无效的 X-Pdw-Key"),
    ("key unknown", "key", 401, "缺少或无效的 X-Pdw-Key"),
    ("body changed after signing", "body", 401, "签名无效"),
    ("idempotency key added after signing", "idem", 401, "签名无效"),
    ("query added after signing", "query", 401, "签名无效"),
    ("as missing", "no-as", 400, "须用 as 写明代表哪位已备案人员"),
    ("as outside the key's departments", "as-gaj", 403, "只能代表其绑定部门（jyj）"),
    ("as unknown person", "as-unknown", 400, "人员“nobody.here”未登记"),
    ("signed purpose NUL", "nul", 400, "用途（purpose）：不能含控制字符"),
    ("the same signature twice", "replay", 401, "重放"),
]


def signed_case(how: str) -> tuple[str, dict[str, str], bytes]:
    """A signed share start by the erp key for jyj.panxiaoyu, tampered with as ``how`` says."""
    path = "/v1/cases/share"
    body = {**SHARE, "resource_id": "RES-GAJ-002", "items": ["号牌号码"], "as": JYJ}
    if how == "no-as":
        body.pop("as")
    elif how == "as-gaj":
        body["as"] = GAJ
    elif how == "as-unknown":
        body["as"] = "nobody.here"
    elif how == "nul":
        body["purpose"] = "核验\x00"
    elif how == "replay":  # refused (after the signature is remembered), then sent again
        body["purpose"] = "重放\x07"
    headers, data = signed("POST", path, body)
    if how == "signature":
        headers["X-Pdw-Signature"] = "0" * 64
    elif how == "signature-text":
        headers["X-Pdw-Signature"] = "z" * 64
    elif how == "signature-huge":
        headers["X-Pdw-Signature"] = "0" * 100_000
    elif how in ("old", "ahead"):
        ts = str(int(time.time()) + (-3600 if how == "old" else 3600))
        headers["X-Pdw-Timestamp"] = ts
        headers["X-Pdw-Signature"] = signature(ERP_SECRET, "POST", path, ts, data)
    elif how == "timestamp-text":
        headers["X-Pdw-Timestamp"] = "now"
    elif how == "timestamp-missing":
        headers.pop("X-Pdw-Timestamp")
    elif how == "key":
        headers["X-Pdw-Key"] = "nope"
    elif how == "body":
        data = data.replace(b'"months": 6', b'"months": 60')
    elif how == "idem":
        headers["Idempotency-Key"] = "added-later"
    elif how == "query":
        path += "?as=dsj.zhouwei"
    return path, headers, data


async def send(client: httpx.AsyncClient, case: Bad, tokens: dict[str, str]) -> httpx.Response:
    headers = dict(case.headers)
    if case.who != "anon" and "Authorization" not in headers:
        headers.update(bearer(tokens[case.who]))
    if isinstance(case.body, dict):
        content = json.dumps(case.body, ensure_ascii=False).encode()
        headers.setdefault("Content-Type", "application/json")
    elif case.body is None:
        content = b""
    else:
        content = case.body.encode() if isinstance(case.body, str) else case.body
        headers.setdefault("Content-Type", "application/json")
    return await client.request(case.method, case.path, params=case.params, content=content, headers=headers)


def rows() -> dict[str, int]:
    """Every table's row count; left out are the replay memory of signatures (hook_signature: a
    signature is remembered once verified, before the body is read, so that it is never accepted
    twice) and the public routes' rate-limit counts (rate_limit: every call counts, bad or good)."""
    with session() as s:
        return {name: int(s.exec(select(func.count()).select_from(table)).one())  # type: ignore[call-overload]
                for name, table in SQLModel.metadata.tables.items() if name not in ("hook_signature", "rate_limit")}


def counters() -> list[tuple[str, int, int]]:
    with session() as s:
        return sorted((c.process, c.year, c.last) for c in s.exec(select(CaseCounter)).all())


# ``pdw`` with bad input: the API's (or the command's own) one Chinese line, exit status 1.
COMMANDS: list[tuple[str, list[str], str]] = [
    ("pdw share: purpose NUL", ["share", "request", "--resource", "RES-SCJGJ-001", "--item", "名称", "--purpose", "核验\x00",
                                "--scope", "治安大队", "--mode", "query", "--as", GAJ], "用途（purpose）：不能含控制字符"),
    ("pdw share: purpose 2001", ["share", "request", "--resource", "RES-SCJGJ-001", "--item", "名称", "--purpose", LONG,
                                 "--scope", "治安大队", "--mode", "query", "--as", GAJ], "不能超过 2000 个字符"),
    ("pdw share: unknown resource", ["share", "request", "--resource", "RES-NOPE-6", "--item", "名称", "--purpose", "p",
                                     "--scope", "s", "--mode", "query", "--as", GAJ], "RES-NOPE-6"),
    ("pdw show: unknown case", ["show", UNKNOWN_CASE, "--as", CENTER], UNKNOWN_CASE),
    ("pdw show: case id SQL", ["show", SQL, "--as", CENTER], "案件编号"),
    ("pdw decide: unknown case", ["decide", UNKNOWN_CASE, "approve", "--as", CENTER], UNKNOWN_CASE),
    ("pdw inbox: unknown dept", ["inbox", "--dept", "nope", "--as", CENTER], "nope"),
    ("pdw grant revoke: unknown grant", ["grant", "revoke", "999999", "--reason", "x", "--as", LEADER], "999999"),
    ("pdw calendar due: 30 Feb", ["calendar", "due", "--from", "2026-02-30", "--working-days", "5"], "2026-02-30"),
    ("pdw open apply: id number 12345", ["open", "apply", "--resource", "RES-MZJ-001", "--name", "孙琳", "--id-number",
                                         "12345", "--contact", "13600000000", "--scope", "研究", "--purpose", "评估",
                                         "--access-way", "api"], "证件号码"),
]


async def test_a_sweep_of_bad_input_is_refused_field_by_field_and_writes_nothing(
    api: httpx.AsyncClient, dev: dict[str, str | None]  # noqa: F811 - the imported fixtures
) -> None:
    tokens = {p: token_for(p) for p in (GAJ, CENTER, LEADER, JYJ)}
    names = [c.name for c in CASES] + [s[0] for s in SIGNED] + [c[0] for c in COMMANDS]
    assert len(set(names)) == len(names) >= 80
    before, numbers, since = rows(), counters(), utcnow()
    wrong: list[str] = []
    for case in CASES:
        got = await send(api, case, tokens)
        answer = got.json() if got.headers.get("content-type") == "application/problem+json" else {}
        detail = str(answer.get("detail", got.text[:300]))
        if got.status_code != case.status or case.says not in detail or CONTROL.search(detail) or "\n" in detail:
            wrong.append(f"{case.name}: {got.status_code} {detail!r}")
        elif case.field is not None and answer.get("field") != case.field:
            wrong.append(f"{case.name}: field {answer.get('field')!r}, expected {case.field!r}")
    for name, how, status, says in SIGNED:
        path, headers, data = signed_case(how)
        got = await api.post(path, content=data, headers=headers)
        if how == "replay":
            got = await api.post(path, content=data, headers=headers)
        detail = str(got.json().get("detail", ""))
        if got.status_code != status or says not in detail or CONTROL.search(detail) or "\n" in detail:
            wrong.append(f"{name}: {got.status_code} {detail!r}")
    for name, args, says in COMMANDS:
        done = await apdw(dev, *args)
        try:
            line = one_error_line(done)
        except AssertionError as err:
            wrong.append(f"{name}: {err}")
            continue
        if says not in line or CONTROL.search(done.stderr + done.stdout):
            wrong.append(f"{name}: {line!r}")
    assert not wrong, "\n".join(wrong)
    after = rows()
    assert {t: (before[t], after[t]) for t in before if before[t] != after[t]} == {}
    assert counters() == numbers  # no case number used by a refused start
    with session() as s:  # the signatures verified (then refused for what they signed) are remembered
        remembered = s.exec(select(HookSignature).where(HookSignature.seen_at >= since)).all()
    assert len(remembered) == len([how for _, how, status, _ in SIGNED if status != 401]) + 1  # + the replayed one
    print(f"\nsweep: {len(names)} bad inputs refused ({len(CASES)} API, {len(SIGNED)} signed, {len(COMMANDS)} pdw); "
          f"{len(before)} tables unchanged")


async def test_sql_and_template_text_in_free_text_is_stored_and_echoed_as_written(
    api: httpx.AsyncClient  # noqa: F811 - the imported fixture
) -> None:
    purpose = f"核验 {SQL} {JINJA} <script>alert(1)</script>"
    headers = bearer(token_for(GAJ))
    started = await api.post("/v1/cases/share", json=share(purpose=purpose), headers=headers)
    assert started.status_code == 201, started.text
    case_id = track(started.json()["case_id"])
    shown = await api.get(f"/v1/cases/{case_id}", headers=headers)
    assert shown.status_code == 200 and purpose in json.dumps(shown.json(), ensure_ascii=False)
    assert (await api.get("/v1/me", headers=headers)).status_code == 200  # the tables are still there
