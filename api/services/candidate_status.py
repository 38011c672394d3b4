"""A candidate's status: the one place that changes it, and the work that follows it.

`change_status` is the only writer of `Candidate.status` once a candidate exists (the
candidate endpoint, a retake, anything added later call it inside their transaction); it
pauses or reopens the release to-dos in that transaction. After the commit the caller
runs `follow_status`, which asks each running SLA of the candidate to catch up with the
stored status: the SLA reads it itself, so a repeated or late signal changes nothing and
two changes racing end as the last one committed. A crash between the commit and the
signal leaves SLAs out of step until the next status change or `reconcile` (see
`models.sla.slas_out_of_step`).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.services import sla as slas
from domain.candidate import WorkChange, work_change
from domain.outcome import CandidateStatus, is_active
from models.action import ActionStatus
from models.candidate import Candidate
from models.event import Change
from models.outcome_release import set_release_actions

ACTION_STATUS_AFTER = {WorkChange.PAUSE: ActionStatus.PAUSED, WorkChange.RESUME: ActionStatus.OPEN}


@dataclass(frozen=True)
class StatusChange:
    """A committed change of a candidate's status and what it did to their work."""

    candidate_id: str
    before: CandidateStatus
    after: CandidateStatus
    work: WorkChange | None


def change_status(
    session: Session, candidate: Candidate, after: CandidateStatus, *, actor: str, at: datetime
) -> StatusChange | None:
    """Set the (locked) candidate's status, with its audit row, its event and its release
    to-dos paused or reopened; None when it already had that status."""
    before = candidate.status
    if after == before:
        return None
    candidate.status = after
    candidate.updated_at = at
    session.add(candidate)
    work = work_change(before, after)
    if work is not None:
        set_release_actions(session, candidate.id, ACTION_STATUS_AFTER[work], at)
    detail = {"from": before.value, "to": after.value, "active": is_active(after)}
    key = f"candidate:{candidate.id}:status:{at.isoformat()}:{after}"
    change = Change("candidate", candidate.id, "status_changed", actor, at, key)
    change.record(session, detail, data={"candidate_id": candidate.id})
    return StatusChange(candidate.id, before, after, work)


async def follow_status(engine: Engine, temporal: Client, candidate_id: str) -> None:
    """After the commit: each running SLA of the candidate catches up with its status."""
    workflow_ids = await run_in_threadpool(slas.running_slas, engine, candidate_id)
    await slas.catch_up_slas(temporal, workflow_ids)
