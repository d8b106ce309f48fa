"""Which code a case runs: one patch id per release (issue 14; docs/operations.md, Upgrading pdw
while cases run).

Each ``workflow.patched`` id a new case meets costs it a marker and a ``TemporalChangeVersion``
upsert in its history. So a release names one id, ``RELEASE``, and a case started under it runs every
change up to it by that one marker; a case started before replays by the ids its history holds
(``has``). The first call is made at the top of a run (``CaseWorkflow.run_case``, or a workflow's
first activity), so that a running case always meets it while it replays and keeps the code it
began with."""

from __future__ import annotations

from temporalio import workflow

# 2026.12: the store's work runs as local activities after an update's acceptance too, and the
# case projection is written by a local activity (workflows/deadline.py, workflows/projector.py).
RELEASE = "pdw-2026.12"
# The ids of earlier changes, each implied by RELEASE.
PROJECTION = "case-projection"  # issue 14: the case projection
LOCAL_ACTIVITIES = "pdw-local-activities"  # issue 14: store activities local, upserts coalesced
LISTING_NOTICES = "listing-applicant-notices"  # issue 13: Art. 30 applicants and objectors told


def this_release() -> bool:
    """The case began under this release."""
    return workflow.patched(RELEASE)


def has(patch_id: str) -> bool:
    """The case runs the change ``patch_id`` names: one begun under this release always; one begun
    before as its history says."""
    return this_release() or workflow.patched(patch_id)
