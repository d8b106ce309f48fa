"""Which code a case runs: one patch id per release (issue 14; docs/operations.md, Upgrading pdw
while cases run).

Each ``workflow.patched`` id a new case meets costs it a marker and a ``TemporalChangeVersion``
upsert in its history. So each release names one id, and a new case records only the newest
(``RELEASES[-1]``); a case begun under a release runs every change up to it, and a case begun
before replays by the ids its history holds (``has``). The first call is made at the top of a run
(``CaseWorkflow.run_case``, or a workflow's first activity), so that a running case always meets it
while it replays and keeps the code it began with."""

from __future__ import annotations

from temporalio import workflow

# 2026.12: the store's work runs as local activities after an update's acceptance too, the
# notices too, and the case projection is written by a local activity once per workflow task
# (workflows/deadline.py, workflows/projector.py, workflows/dispute.py).
R2026_12 = "pdw-2026.12"
# 2026.12.2: a step's start computes its deadline and writes its 待办 in one activity
# (CaseWorkflow.start_step, activities/notices.open_step); a share approval writes its grant and
# closes the request in one (ShareApprovalWorkflow._grant, activities/share.grant_and_close).
R2026_12_2 = "pdw-2026.12.2"
# 2026.12.3: a change that goes on at once to further local activities (a decision, then the grant
# and the closing, in one workflow task) is written to the case projection with them, once
# (workflows/projector.py, ``_settled``); a share approval's
# grant, closing and the requester's notice are one activity (activities/share.grant_and_close).
R2026_12_3 = "pdw-2026.12.3"
# Every release's id, oldest first: add the next one at the end (never remove one while a case
# begun under it may run); a change is then written ``if has(R2027_03):``.
RELEASES = (R2026_12, R2026_12_2, R2026_12_3)
# Changes made before the first release id, each implied by every release.
PROJECTION = "case-projection"  # issue 14: the case projection
LOCAL_ACTIVITIES = "pdw-local-activities"  # issue 14: store activities local, upserts coalesced
LISTING_NOTICES = "listing-applicant-notices"  # issue 13: Art. 30 applicants and objectors told


def has(change: str) -> bool:
    """The case runs ``change`` (a release's id, or an earlier change's): one begun under that
    release or a later one always; one begun before as its history says. The newest release is
    asked first, so a new case records its marker and no other."""
    since = RELEASES.index(change) if change in RELEASES else 0
    if any(workflow.patched(release) for release in reversed(RELEASES[since:])):
        return True
    return change not in RELEASES and workflow.patched(change)
