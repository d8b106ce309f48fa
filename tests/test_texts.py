"""Texts staff read (issue 10, item 10): every coded value has one Chinese label (models/labels.py);
every template renders, for every process, step, department and rung, without a raw code, a doubled
name or a doubled headline; ``pdw show`` prints labels, not codes; times are Asia/Shanghai."""

from __future__ import annotations

import ast
import inspect
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from activities.notices import TEMPLATES
from activities.seed import DEPARTMENTS
from commands._client import when
from commands.cases import case_lines, render_story
from models.cases import ACTION_ZH
from models.departments import DeptKind, PersonRole
from models.labels import KINDS, labelled, zh
from models.notices import DECISION_KINDS
from models.processes import CASE_TYPE_ZH, PROCESSES
from models.steps import STEP_RULES
from service.cases import labelled_decision, labelled_notice, labelled_state
from worker import WORKFLOWS

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
DOUBLED = re.compile(r"([\u4e00-\u9fff]{3,})\1")  # 大数据管理中心大数据管理中心
CASE_ID = re.compile(r"(?<![A-Za-z0-9-])[a-z]+(?:-[a-z]+)*-\d{4}-\d{6}(?!\d)")
CASE_WORKFLOWS = [cls for cls in WORKFLOWS if getattr(cls, "case_type", None)]
NAMES = {code: name for code, name, _kind, _people in DEPARTMENTS}


def raw_codes(text: str) -> list[str]:
    """Latin words left once links, case and resource ids are taken out: codes that reached people."""
    text = re.sub(r"https?://\S+", "", text)
    text = CASE_ID.sub("", re.sub(r"RES-[A-Z]+-\d+|GK-\d{4}-\d{6}", "", text))  # GK-: a public receipt
    return re.findall(r"[A-Za-z_]{2,}", text)


# ---- one label for every coded value ----------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_value_of_every_registered_kind_has_a_chinese_label(kind: str) -> None:
    assert KINDS[kind], kind
    bare = {value: label for value, label in KINDS[kind].items() if not CJK.search(label or "")}
    assert not bare, (kind, bare)
    assert all(zh(kind, value) == label for value, label in KINDS[kind].items())


def test_the_registry_covers_every_enumeration_it_is_built_from() -> None:
    assert set(KINDS["dept_kind"]) == {k.value for k in DeptKind}
    assert set(KINDS["role"]) == {r.value for r in PersonRole} | {"applicant"}  # issue 12: the public's notices
    assert set(KINDS["case_type"]) == {p.case_type for p in PROCESSES}
    assert set(KINDS["step"]) == set(STEP_RULES)
    assert zh("level", 3) == "督办" and zh("level", 0, "") == "" and zh("rung", "0") == "待办"
    assert labelled({"mode": "query", "items": None}, mode="share_mode") == {
        "mode": "query", "items": None, "mode_zh": "查询"}


def _workflow_tree(cls: type) -> ast.Module:
    return ast.parse(Path(inspect.getfile(cls)).read_text(encoding="utf-8"))


def _literal_keys(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Dict):
        return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def actions_of(cls: type) -> set[str]:
    """The actions a workflow compares ``….action`` with, directly or through a named literal."""
    tree = _workflow_tree(cls)
    named: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            named[node.targets[0].id] = _literal_keys(node.value)
    found: set[str] = set()

    def values(node: ast.AST) -> set[str]:
        return named.get(node.id, set()) if isinstance(node, ast.Name) else _literal_keys(node)

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "action":
            for other in node.comparators:
                found |= values(other)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Attribute) and node.slice.attr == "action":
            found |= values(node.value)
    return found


@pytest.mark.parametrize("cls", CASE_WORKFLOWS, ids=lambda c: c.__name__)
def test_every_action_a_workflow_takes_has_a_chinese_name(cls: type) -> None:
    """Else a refusal reads "现在不能object" and the timeline shows the code."""
    actions = actions_of(cls)
    assert actions, cls
    assert not actions - set(ACTION_ZH), actions - set(ACTION_ZH)


@pytest.mark.parametrize("cls", CASE_WORKFLOWS, ids=lambda c: c.__name__)
def test_every_status_a_workflow_sets_has_a_chinese_name(cls: type) -> None:
    setters = {"set_status", "close", "_close", "_finish"}
    statuses = {
        node.args[0].value for node in ast.walk(_workflow_tree(cls))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in setters
        and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    }
    status_zh: dict[str, str] = cls.status_zh  # type: ignore[attr-defined]
    assert not statuses - set(status_zh), statuses - set(status_zh)
    assert all(CJK.search(label) for label in status_zh.values()), status_zh


# ---- details strings: the pieces a timeline line is made of ----------------------------------------


@pytest.mark.parametrize("action", sorted(ACTION_ZH))
def test_a_decision_in_the_timeline_says_reasons_once(action: str) -> None:
    """CaseWorkflow.record notes "{who}{action}，理由：…": an action named by its reasons would say
    理由 twice ("说明不列入开放目录的理由，理由：…")."""
    line = f"谢静（县卫生健康局）{ACTION_ZH[action]}，理由：含个人信息，依据：某法"
    assert line.count("理由") == 1 and line.count("依据") == 1, line


def test_step_names_follow_any_department_without_doubling() -> None:
    for rule in STEP_RULES.values():
        for name in NAMES.values():
            assert not DOUBLED.search(f"等待{name}{rule.zh}"), (name, rule.zh)


# ---- every template, every process, step, department and rung ---------------------------------------


def _templates() -> list[str]:
    names = sorted(str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*.j2"))
    return [n for n in names if not Path(n).name.startswith("_")]  # partials render within the others


def _headlines(case_type: str) -> list[str]:
    """What a process's workflow puts in a notice's headline: its statuses and outcomes, in Chinese."""
    found = {label for cls in CASE_WORKFLOWS if cls.case_type == case_type  # type: ignore[attr-defined]
             for label in cls.status_zh.values()}  # type: ignore[attr-defined]
    return sorted(found | set(KINDS["correction_outcome"].values()) | {"未获同意", "已同意共享"})


def _contexts(template: str) -> list[dict[str, Any]]:
    """Sample contexts: each step of each process, awaited of each kind of department, told to a
    person of another; the decision templates with every headline."""
    person = {"person_name": "周伟", "dept_name_of_person": "县大数据管理中心", "role_zh": "日常管理人员"}
    base = {**person, "case_url": "http://127.0.0.1:8233/namespaces/default/workflows/share-2026-000001",
            "article": "第二十条"}
    out: list[dict[str, Any]] = []
    if template.startswith("ladder/"):
        for process in PROCESSES:
            for key, rule in STEP_RULES.items():
                if process.case_type.split("_")[0] != key.split(".")[0].split("_")[0]:
                    continue
                for code in ("dsj", "gaj", "xzf", "wzdsj", "zjwyh"):
                    out.append({**base, "case_id": f"{process.prefix}-2026-000001", "case_type_zh": process.zh,
                                "dept_name": NAMES[code], "step_zh": rule.zh, "article": rule.article,
                                "statutory": rule.statutory, "due_date_zh": "2026年12月4日",
                                "working_days": rule.working_days, "provisional": code == "gaj",
                                "days_left": 1, "days_over": 2})
    elif template.startswith("decision/"):
        for process in PROCESSES:
            for headline in _headlines(process.case_type):
                out.append({**base, "case_id": f"{process.prefix}-2026-000002", "case_type_zh": process.zh,
                            "headline": headline, "detail": "理由：涉及个人信息；依据：某法第三条。"})
    elif template == "role_vacant.txt.j2":
        out = [{**base, "dept_name": NAMES[code], "role_zh": zh("role", role), "role_zh_of_person": "日常管理人员",
                "case_type_zh": process.zh, "case_id": f"{process.prefix}-2026-000003", "about": "catalog_update.submit"}
               for code in NAMES for role in KINDS["role"] for process in PROCESSES[:1]]
    elif template.startswith("applicant/"):  # issue 12: the public hears back, by receipt
        out = [{"kind_zh": kind_zh, "case_type_zh": kind_zh, "headline": headline, "receipt": "GK-2026-000123", "applicant": "孙*（居民身份证 ****1116）",
                "resource_id": "RES-MZJ-001", "text": "理由：涉及个人隐私", "next_step": step, "article": "第三十二条"}
               for kind_zh in ("受限开放数据申请", "列入开放目录申请", "复核申请")
               for headline in ("不予开放", "数源部门不予列入开放目录", "复核维持数源部门答复")
               for step in (None, "如有异议，可于2026年12月4日24时前向县大数据管理中心申请复核（第三十二条）")]
    elif template == "digest.txt.j2":
        cases = [{"case_id": f"{p.prefix}-2026-00000{i}", "case_type_zh": p.zh, "dept_name": NAMES["gaj"],
                  "due_zh": "2026年11月20日", "level_zh": zh("level", 2 + i % 2), "url": base["case_url"]}
                 for i, p in enumerate(PROCESSES)]
        stuck = [{"case_id": "share-2026-000009", "case_type_zh": "共享申请", "url": base["case_url"]}]
        out = [{**base, "day_zh": "2026年12月1日", "cases": cases, "stuck": stuck},
               {**base, "day_zh": "2026年12月1日", "cases": cases, "stuck": []}]
    elif template == "evaluation_report.html.j2":  # Art. 41: the yearly report
        from activities.evaluation_figures import compute
        from models.evaluation import ReportTexts
        from service.report_render import html_context

        # A year no test writes records in: other tests' made-up case ids (share-grant-…) are not
        # what this test reads for; the case ids of a known year are checked in test_evaluation_report.
        figures = compute(2002)
        out = [html_context(figures, ReportTexts(advice="按第二十条按时答复。"), status, charts=False)
               for status in ("computed", "draft", "published")]
    return out


def _visible(html: str) -> str:
    """What a reader sees of an html page: no style, no tags (the charts are pygal's, tested apart)."""
    import html as entities

    html = re.sub(r"<style\b.*?</style>|<svg\b.*?</svg>", "", html, flags=re.S)
    return entities.unescape(re.sub(r"<[^>]+>", "\n", html))


def test_every_notice_kind_has_its_template() -> None:
    assert {f"decision/{kind}.txt.j2" for kind in DECISION_KINDS} <= set(_templates())


@pytest.mark.parametrize("template", _templates())
def test_every_template_renders_without_codes_doubled_names_or_doubled_headlines(template: str) -> None:
    contexts = _contexts(template)
    assert contexts, f"no sample context for {template}: add one to _contexts"
    for context in contexts:
        text = TEMPLATES.get_template(template).render(**context)
        assert "{{" not in text and "{%" not in text, text
        text = _visible(text) if template.endswith(".html.j2") else text
        assert not raw_codes(text), (template, raw_codes(text), text)
        assert not [m.group(0) for line in text.splitlines() if (m := DOUBLED.search(line))], text
        headline = context.get("headline")
        if headline:
            assert not [line for line in text.splitlines() if line.count(headline) > 1], text
            assert not headline.startswith(context["case_type_zh"]), text  # "受限开放申请 …：受限开放申请已获同意"


def test_the_todo_notice_says_what_is_owed_not_the_process_name() -> None:
    """A listing's 待办 to its source asks it to review (审核), not to re-review (复核)."""
    text = TEMPLATES.get_template("ladder/todo.txt.j2").render(
        **_contexts("ladder/todo.txt.j2")[0] | {"case_id": "listing-2026-000001", "case_type_zh": CASE_TYPE_ZH[
            "open_listing"], "dept_name": "县卫生健康局", "step_zh": STEP_RULES["open.listing_review"].zh})
    assert text.splitlines()[0] == "待办：listing-2026-000001 请县卫生健康局审核是否列入开放目录"


# ---- what pdw prints -------------------------------------------------------------------------------


def _story() -> dict[str, Any]:
    """A share case as the service hands it to ``pdw show``, labelled the service's way."""
    parties = {"jyj": "县教育局", "gaj": "县公安局", "dsj": "县大数据管理中心"}
    names = {**NAMES, **parties}
    at = "2026-11-27T13:30:00Z"
    state = {
        "case_id": "share-2026-000002", "case_type": "share", "status": "granted", "status_zh": "已同意共享，授权生效",
        "awaiting": ["gaj"], "article": "第二十条", "escalation": 2, "parties": parties, "mode": "verification",
        "share_attribute": "restricted", "outcome": "granted", "facts": ["数据项：号牌号码"],
        "deadlines": {"share.source_review": {"due_date": "2026-12-04", "article": "第二十条", "statutory": False}},
        "timeline": [{"at": at, "text": "潘晓雨（县教育局）提出共享申请"}],
    }
    decisions = [{"action": "decide", "step": "dispute.county_decision", "person_name": "吴明辉", "dept_code": "xzf",
                  "role": "leader_in_charge", "decided_at": at, "reasons": "校车安全", "basis": None,
                  "article": "第二十条"},
                 {"action": "object", "step": "open.objection_window", "person_name": "吴*", "dept_code": "public",
                  "role": "", "decided_at": at, "reasons": "可汇总后开放", "basis": None, "article": "第三十二条"}]
    notices = [{"case_time": at, "subject": "待办：share-2026-000002 请县公安局联合审批共享申请", "person_name": "张芳",
                "channel": "log", "status": "sent", "level": 0, "role": "daily_admin", "dept_code": "gaj"}]
    return {"case_id": "share-2026-000002", "summary": "共享申请 RES-GAJ-002 机动车登记信息（县教育局 → 县公安局）",
            "state": labelled_state(state, names), "decisions": [labelled_decision(d, names) for d in decisions],
            "notices": [labelled_notice(n, names) for n in notices]}


def test_pdw_show_prints_labels_not_codes() -> None:
    text = render_story(_story())
    assert not raw_codes(text), (raw_codes(text), text)
    assert "吴明辉（县人民政府，分管领导）作出决定" in text  # a department from another case, by name
    assert "公众吴*提出复核申请" in text and "（系统记录，已送达）" in text and "催督办级别：催办" in text
    assert "2026-11-27 21:30" in text  # 13:30 UTC is 21:30 in Asia/Shanghai
    state = _story()["state"]
    assert (state["mode_zh"], state["share_attribute_zh"], state["outcome_zh"]) == ("核验", "受限共享", "同意共享")


def test_times_are_shown_in_asia_shanghai() -> None:
    assert when("2026-11-27T16:30:00Z") == "2026-11-28 00:30"
    assert when("2026-11-27T16:30:00") == "2026-11-28 00:30"  # a time without zone is UTC, as the API stores it
    assert when(datetime(2026, 11, 27, 16, 30, tzinfo=UTC).isoformat(), "%Y-%m-%d") == "2026-11-28"
    line = case_lines([{"case_id": "share-2026-000002", "case_type_zh": "共享申请", "awaiting_name": "县公安局",
                        "due_at": "2026-12-04T16:00:00Z", "due_date": "2026-12-04", "escalation": 2, "level_zh": "催办"}])
    assert line[0].split() == ["share-2026-000002", "共享申请", "等待", "县公安局", "期限", "2026-12-04", "催办"]


def test_pdw_show_lists_every_objection_with_its_own_due_date_in_chinese() -> None:
    """Art. 32: each objection, its own 3 working days, the center's answer labelled; a second
    round's deadline is named by its step, not by its key."""
    at = "2026-11-27T02:00:00Z"
    state = {
        "case_id": "listing-2026-000001", "case_type": "open_listing", "status": "objection_review",
        "status_zh": "待县大数据管理中心复核", "parties": {"dsj": "县大数据管理中心", "rsj": "县人力社保局"},
        "deadlines": {"open.objection_review#2": {"step": "open.objection_review", "due_date": "2026-12-02",
                                                  "article": "第三十二条", "statutory": True}},
        "objections": [
            {"seq": 1, "objector_label": "赵*（居民身份证 ****1111）", "objection": "可汇总后开放", "received_at": at,
             "due_at": "2026-12-01T16:00:00Z", "answer": "suggested"},
            {"seq": 2, "objector_label": "钱*（居民身份证 ****2222）", "objection": "不涉及个人", "received_at": at,
             "due_at": "2026-12-02T16:00:00Z", "answer": None},
        ],
        "secrecy_review": {"reviewer": "李军", "reviewed_on": "2026-11-20", "conclusion": "no_state_secret"},
        "timeline": [],
    }
    story = {"case_id": "listing-2026-000001", "summary": "开放目录申请 RES-RSJ-001（公众申请 5 次）",
             "state": labelled_state(state, {}), "decisions": [], "notices": []}
    text = render_story(story)
    assert not raw_codes(text), (raw_codes(text), text)
    assert "复核申请第 1 件：赵*（居民身份证 ****1111），收到 2026-11-27 10:00，复核期限 2026-12-01 24时，建议数源部门列入开放目录" in text
    assert "复核申请第 2 件：钱*（居民身份证 ****2222）" in text and "2026-12-02 24时，待复核" in text
    assert "期限 复核数源部门的答复：2026-12-02" in text
    assert story["state"]["secrecy_review"]["conclusion_zh"] == "不涉及国家秘密"
