"""Histories of ApplicationReviewWorkflow's reviewer clocks (patch review-deadlines,
decision 0095): one whose timers fire (reminder, overdue, auto-unassign), one whose timers
are ended (unassigned, reassigned on a fresh date, submitted in time)."""

from datetime import timedelta
from typing import Any

from domain.review import ReviewDecision
from tests.replay.record_application import _decide, _submit
from tests.replay.recording import Recording, history_json, recording
from tests.support.seed import seed_draft, seed_reviewer, seed_template
from workflows.application import ApplicationReviewWorkflow
from workflows.payloads.application import WithdrawApplicationInput
from workflows.payloads.review import (
    AssignInput,
    StartReviewInput,
    SubmitReviewInput,
    UnassignInput,
)

TIMED: list[dict[str, Any]] = [
    {
        "code": "assessment",
        "name": "A",
        "levels": 1,
        "review_due_days": 10,
        "auto_unassign_after_days": 3,
    }
]


async def _taken(rec: Recording) -> tuple[Any, str]:
    seed_template(rec.engine, code="due", stages=TIMED)
    seed_reviewer(rec.engine, "rev-1", code="due")
    application_id = seed_draft(rec.engine, code="due")
    await _submit(rec, application_id, "due", 1)
    handle = rec.client.get_workflow_handle(f"application-{application_id}")
    case = await handle.query(ApplicationReviewWorkflow.state)
    row = case.assignments[0].id
    await handle.execute_update(
        ApplicationReviewWorkflow.assign, AssignInput(assignment_id=row, actor="rev-1")
    )
    return handle, row


async def record_review_deadlines_fire(database_url: str) -> str:
    """Taken, started, then left: reminded on day 8, overdue on day 10, the sections given
    back on day 13; the applicant withdraws."""
    async with recording(database_url) as rec:
        handle, row = await _taken(rec)
        start = StartReviewInput(assignment_id=row, actor="rev-1")
        await handle.execute_update(ApplicationReviewWorkflow.start_review, start)
        await rec.env.sleep(timedelta(days=14))
        await handle.execute_update(
            ApplicationReviewWorkflow.withdraw, WithdrawApplicationInput(actor="alice")
        )
        await handle.result()
        return await history_json(handle)


async def record_review_deadlines_ended(database_url: str) -> str:
    """Taken, unassigned on day 5 (the timer cancelled), reassigned on day 6 (a fresh date),
    reminded, submitted CONFORM before the new due date: the case completes."""
    async with recording(database_url) as rec:
        handle, row = await _taken(rec)
        await rec.env.sleep(timedelta(days=5))
        await handle.execute_update(
            ApplicationReviewWorkflow.unassign, UnassignInput(assignment_id=row, actor="asg-1")
        )
        await rec.env.sleep(timedelta(days=1))
        await handle.execute_update(
            ApplicationReviewWorkflow.assign,
            AssignInput(assignment_id=row, actor="asg-1", by_assigner=True),
        )
        start = StartReviewInput(assignment_id=row, actor="rev-1")
        started = await handle.execute_update(ApplicationReviewWorkflow.start_review, start)
        await rec.env.sleep(timedelta(days=9))
        _decide(rec, started.review_id, None)
        await handle.execute_update(
            ApplicationReviewWorkflow.submit_review,
            SubmitReviewInput(
                review_id=started.review_id, actor="rev-1", decision=ReviewDecision.CONFORM
            ),
        )
        await handle.result()
        return await history_json(handle)
