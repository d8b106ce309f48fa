"""Every process pdw runs, once: its workflow name, case-number prefix, case type (the
``PdwCaseType`` search attribute), the API route that starts it and its Chinese name. The worker,
the API and the notices all read this table; a test checks it against what the worker registers.
Standard library only, so anything may import it cheaply."""

from __future__ import annotations

from dataclasses import dataclass

# The names every case workflow answers to (workflows/case.py).
DECIDE_UPDATE = "decide"
STATE_QUERY = "state"
END_UPDATE = "end"  # withdraw (the starter) or cancel (the center): workflows/case.py
END_ACTIONS = ("withdraw", "cancel")
# Local rule: the center moves a running case's source role to the resource's new owner (workflows/case.py).
TRANSFER_UPDATE = "transfer"
# The processes with a step the data's source (数源部门) owes: the ones a transfer can move.
TRANSFERABLE = ("share", "correction", "catalog_update", "open_listing")
CALENDAR_SIGNAL = "calendar_changed"  # the working-day calendar changed: count deadlines again


@dataclass(frozen=True)
class Process:
    route: str  # POST /v1/cases/{route}, or under /v1/public/ for the public's
    workflow: str  # the registered workflow type name
    prefix: str  # case numbers: {prefix}-{year}-{n:06d}
    case_type: str  # PdwCaseType
    zh: str
    articles: str


PROCESSES: tuple[Process, ...] = (
    Process("catalog-update", "CatalogUpdate", "catalog", "catalog_update", "目录更新", "第十条至第十二条"),
    Process("share", "ShareApproval", "share", "share", "共享申请", "第十三条至第二十二条"),
    Process("dispute", "Dispute", "dispute", "dispute", "争议协调", "第二十条第二款、第二十八条第三款"),
    Process("correction", "DataCorrection", "correction", "correction", "数据纠错", "第二十三条"),
    Process("open-application", "RestrictedOpenReview", "open", "open_review", "受限开放申请", "第二十八条至第三十一条"),
    Process("open-listing", "OpenListingReview", "listing", "open_listing", "开放目录申请复核", "第三十二条"),
    # Art. 10–11: a department compiles a new entry, the center reviews it, it is published.
    Process("catalog-register", "CatalogRegistration", "catreg", "catalog_register", "目录编制", "第十条、第十一条"),
    # Art. 19, 28 ¶4, 30 ¶2: opened by the review Schedules (workflows/review_round.py), not by a person.
    Process("review", "PeriodicReview", "review", "review", "定期评估审查", "第十九条、第二十八条第四款、第三十条第二款"),
    # Art. 22, 25: reads outside any grant open a misuse case, started by the access-log ingest, not a person.
    Process("misuse", "MisuseReview", "misuse", "misuse", "数据滥用核查", "第二十二条、第二十五条"),
    # Art. 46: the center proposes, the county government or 县大数据发展管理局 orders a department to correct.
    Process("rectification", "Rectification", "rect", "rectification", "责令改正", "第四十六条"),
)
BY_ROUTE = {p.route: p for p in PROCESSES}
BY_CASE_TYPE = {p.case_type: p for p in PROCESSES}
BY_WORKFLOW = {p.workflow: p for p in PROCESSES}
CASE_TYPE_ZH = {p.case_type: p.zh for p in PROCESSES}
# Started as a child by name: importing its workflow class into a case's sandbox costs every new case.
DISPUTE_WORKFLOW = BY_CASE_TYPE["dispute"].workflow
# Workflows that are not cases: they deliver notices and send the digest.
SUPPORT_WORKFLOWS = ("NoticeDelivery", "DailyDigest", "CalendarChange", "ApplicantsPurge", "GrantExpiry",
                     "AccessLogRetention",  # Art. 25: the access log kept PDW_ACCESS_LOG_RETENTION_DAYS
                     "OpenScopeReviewRound", "RestrictedOpenReviewRound", "FreshnessCheckRound",  # Art. 28 ¶4, 30 ¶2, 19
                     "EvaluationDraft")  # Art. 41: the yearly evaluation report's draft


def process_of_case(case_id: str) -> Process | None:
    """The process a case id belongs to, from its prefix (``dispute-share-…`` is a dispute)."""
    prefix = case_id.split("-", 1)[0]
    return next((p for p in PROCESSES if p.prefix == prefix), None)
