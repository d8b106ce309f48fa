"""Store activities of dispute coordination (Art. 20 ¶2, Art. 28 ¶3)."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.catalog import current_version, get_resource
from activities.store import (
    StoreError,
    dept_of_kind,
    get_department,
    insert_ignore,
    session,
    update_case_record,
)
from models.catalog import SECRECY_CONCLUSIONS
from models.dispute import Dispute, DisputeClosing, DisputeInput, DisputeOpened


@activity.defn
def open_dispute_case(inp: DisputeInput) -> DisputeOpened:
    try:
        with session() as s:
            resource = get_resource(s, inp.resource_id)
            entry = current_version(s, resource.id)
            parties = {code: get_department(s, code).name for code in inp.parties}
            the_center, county = dept_of_kind(s, "center"), dept_of_kind(s, "county_gov")
            experts = dept_of_kind(s, "expert_committee")
            insert_ignore(
                s,
                Dispute,
                {
                    "case_id": inp.case_id, "kind": inp.kind, "parent_case_id": inp.parent_case_id,
                    "resource_id": resource.id, "raised_by": inp.raised_by.person_id, "parties": inp.parties,
                    "claim": inp.claim, "status": "open",
                },
                ["case_id"],
            )
            return DisputeOpened(
                parties={**parties, the_center.code: the_center.name, county.code: county.name,
                         experts.code: experts.name},
                center_code=the_center.code, county_code=county.code, expert_code=experts.code,
                current_open_attribute=entry.open_attribute, current_forbidden_ground=entry.forbidden_ground,
                has_secrecy_record=bool(entry.secrecy_reviewer and entry.secrecy_reviewed_on
                                        and entry.secrecy_conclusion in SECRECY_CONCLUSIONS),
            )
    except StoreError as err:
        raise ApplicationError(str(err), type="BadInput", non_retryable=True) from err


@activity.defn
def close_dispute_case(c: DisputeClosing) -> None:
    update_case_record(Dispute, c.case_id, c.model_dump(exclude={"case_id"}))
