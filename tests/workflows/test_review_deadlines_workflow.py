"""Reviewer deadlines under the time-skipping server: reminders, overdue, auto-unassign,
and the events that end or re-arm the clock (decision 0095)."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.services import review as reviews
from domain.application import ApplicationStatus
from domain.review import AssignmentStatus, ResponseDecision, ReviewStatus
from models.action import Action, ActionStatus
from models.event import OutboxEvent
from models.review import Assignment, Review, ReviewResponseWrite
from tests.support.seed import T0, seed_reviewer, seed_template
from tests.workflows.test_review_cycle_workflow import _submitted
from worker import build_worker
from workflows.application import ApplicationReviewWorkflow
from workflows.payloads.application import WithdrawApplicationInput
from workflows.payloads.review import (
    AssignInput,
    CaseSnapshot,
    StartReviewInput,
    SubmitReviewInput,
    UnassignInput,
)

Handle = WorkflowHandle[ApplicationReviewWorkflow, CaseSnapshot]
TIMED: dict[str, Any] = {
    "code": "assessment",
    "name": "Assessment",
    "levels": 2,
    "review_due_days": 10,
    "auto_unassign_after_days": 3,
}


def _stages(**stage: Any) -> list[dict[str, Any]]:
    return [{**TIMED, **stage}]


async def _client(
    ts_env: WorkflowEnvironment, db: Engine, task_queue: str, stages: list[dict[str, Any]]
) -> AsyncIterator[Client]:
    seed_template(db, stages=stages)
    seed_reviewer(db, "rev-1")
    seed_reviewer(db, "rev-2", level=2)
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Two levels on a 10-day review clock, reminded 2 days before (the default), taken back
    3 days after."""
    async for found in _client(ts_env, db, task_queue, _stages()):
        yield found


async def _taken(client: Client, db: Engine, task_queue: str) -> tuple[Handle, str]:
    """A submitted application whose only assignment an assigner gave rev-1; returns its id."""
    _, handle = await _submitted(client, db, task_queue)
    case = await handle.query(ApplicationReviewWorkflow.state)
    row = case.assignments[0].id
    await handle.execute_update(
        ApplicationReviewWorkflow.assign,
        AssignInput(assignment_id=row, actor="boss", by_assigner=True),
    )
    return handle, row


def _types(db: Engine) -> list[str]:
    with Session(db) as session:
        rows = session.exec(
            select(OutboxEvent.type)
            .where(col(OutboxEvent.type).startswith("review."))
            .order_by(col(OutboxEvent.id))
        ).all()
    return list(rows)


def _actions(db: Engine) -> dict[str, tuple[str, ActionStatus]]:
    with Session(db) as session:
        rows = session.exec(select(Action).where(col(Action.kind).startswith("review_"))).all()
    return {row.kind: (row.role, row.status) for row in rows}


def _row(db: Engine, assignment_id: str) -> Assignment:
    with Session(db) as session:
        row = session.get(Assignment, assignment_id)
        assert row is not None
        return row


async def _review(handle: Handle, db: Engine, row: str) -> str:
    started = await handle.execute_update(
        ApplicationReviewWorkflow.start_review, StartReviewInput(assignment_id=row, actor="rev-1")
    )
    with Session(db) as session:
        shown = reviews.review(session, started.review_id)
    for response in shown.responses:
        with Session(db) as session:
            reviews.write_response(
                session,
                "rev-1",
                started.review_id,
                response.target_id,
                ReviewResponseWrite(decision=ResponseDecision.APPROVE),
                at=T0,
            )
    return started.review_id


async def test_reminder_at_n_minus_2_overdue_at_n_unassigned_at_n_plus_grace(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle, row = await _taken(client, db, task_queue)
    case = await handle.query(ApplicationReviewWorkflow.state)
    taken = case.assignments[0]
    assert taken.due_at is not None
    review_id = await _review(handle, db, row)
    with Session(db) as session:
        assert reviews.review(session, review_id, now=taken.due_at).due_at == taken.due_at

    await ts_env.sleep(timedelta(days=7, hours=23))
    assert _types(db) == []
    await ts_env.sleep(timedelta(hours=2))  # day 8: two days before the due date
    assert _types(db) == ["review.reminder"]
    assert _actions(db) == {"review_reminder": ("reviewer", ActionStatus.OPEN)}
    assert _row(db, row).overdue_at is None

    await ts_env.sleep(timedelta(days=2))  # day 10: due
    assert _types(db) == ["review.reminder", "review.overdue"]
    assert _actions(db)["review_overdue"] == ("assigner", ActionStatus.OPEN)
    state = await handle.query(ApplicationReviewWorkflow.state)
    assert state.assignments[0].overdue_at is not None
    with Session(db) as session:
        assert reviews.review(session, review_id).overdue is True

    await ts_env.sleep(timedelta(days=2, hours=22))  # the grace is 3 days
    assert _row(db, row).status == AssignmentStatus.ASSIGNED
    await ts_env.sleep(timedelta(hours=3))
    released = _row(db, row)
    assert released.status == AssignmentStatus.AVAILABLE
    assert released.assigned_sections == []
    assert released.due_at is None
    with Session(db) as session:
        review = session.get(Review, review_id)
        assert review is not None
        assert review.status == ReviewStatus.DISCONTINUED
    assert _types(db) == ["review.reminder", "review.overdue", "review.auto_unassigned"]
    actions = _actions(db)
    assert actions["review_auto_unassigned"] == ("assigner", ActionStatus.OPEN)
    assert actions["review_reminder"][1] == actions["review_overdue"][1] == ActionStatus.DONE


async def test_submitting_before_the_due_date_ends_the_clock(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle, row = await _taken(client, db, task_queue)
    review_id = await _review(handle, db, row)
    await ts_env.sleep(timedelta(days=9))  # reminded on day 8
    await handle.execute_update(
        ApplicationReviewWorkflow.submit_review,
        SubmitReviewInput(review_id=review_id, actor="rev-1", decision=None),
    )
    await ts_env.sleep(timedelta(days=30))

    assert _types(db) == ["review.reminder", "review.submitted"]
    assert _actions(db) == {"review_reminder": ("reviewer", ActionStatus.DONE)}
    assert _row(db, row).due_at is None
    state = await handle.query(ApplicationReviewWorkflow.state)
    assert (state.status, state.level) == (ApplicationStatus.SUBMITTED, 2)


async def test_a_withdrawal_ends_the_clock_and_its_open_to_dos(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle, row = await _taken(client, db, task_queue)
    await _review(handle, db, row)
    await ts_env.sleep(timedelta(days=10, hours=1))  # reminded, then overdue
    assert _actions(db) == {
        "review_reminder": ("reviewer", ActionStatus.OPEN),
        "review_overdue": ("assigner", ActionStatus.OPEN),
    }
    await handle.execute_update(
        ApplicationReviewWorkflow.withdraw, WithdrawApplicationInput(actor="alice")
    )
    await ts_env.sleep(timedelta(days=30))  # the grace would have run out here

    assert _actions(db) == {
        "review_reminder": ("reviewer", ActionStatus.DONE),
        "review_overdue": ("assigner", ActionStatus.DONE),
    }
    closed = _row(db, row)
    assert (closed.due_at, closed.overdue_at) == (None, None)
    assert _types(db) == ["review.reminder", "review.overdue"]


async def test_unassign_ends_the_clock_and_reassign_gets_a_fresh_due_date(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle, row = await _taken(client, db, task_queue)
    first_due = _row(db, row).due_at
    assert first_due is not None
    await ts_env.sleep(timedelta(days=5))
    await handle.execute_update(
        ApplicationReviewWorkflow.unassign, UnassignInput(assignment_id=row, actor="boss")
    )
    assert _row(db, row).due_at is None
    await ts_env.sleep(timedelta(days=6))  # past the first due date: nothing fires
    assert _types(db) == []

    await handle.execute_update(
        ApplicationReviewWorkflow.assign,
        AssignInput(assignment_id=row, actor="boss", by_assigner=True),
    )
    fresh = _row(db, row).due_at
    assert fresh is not None
    assert fresh - first_due >= timedelta(days=11)
    await ts_env.sleep(timedelta(days=7, hours=23))
    assert _types(db) == []
    await ts_env.sleep(timedelta(hours=2))
    assert _types(db) == ["review.reminder"]
    await ts_env.sleep(timedelta(days=2))
    assert _types(db) == ["review.reminder", "review.overdue"]


async def test_a_restart_before_the_due_date_does_not_re_arm_the_clock(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    """A restart on day 1 (the review set PENDING in the table, as a resubmission leaves it)
    ends the running clock: nothing fires later, nothing is armed again."""
    handle, row = await _taken(client, db, task_queue)
    review_id = await _review(handle, db, row)
    await ts_env.sleep(timedelta(days=1))
    assert _row(db, row).due_at is not None
    with Session(db) as session, session.begin():
        review = session.get(Review, review_id)
        assert review is not None
        review.status = ReviewStatus.PENDING  # as a resubmission leaves it
        session.add(review)
    await handle.execute_update(
        ApplicationReviewWorkflow.start_review, StartReviewInput(assignment_id=row, actor="rev-1")
    )
    await ts_env.sleep(timedelta(days=30))

    assert _types(db) == []
    assert _row(db, row).due_at is None
    state = await handle.query(ApplicationReviewWorkflow.state)
    assert state.status == ApplicationStatus.SUBMITTED
    assert state.assignments[0].due_at is None


@pytest.fixture
async def seconds(
    ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> AsyncIterator[Client]:
    """A stage with ISO durations: due in 90 s, reminded 30 s before, never taken back."""
    stages = [
        {
            "code": "assessment",
            "name": "Assessment",
            "levels": 1,
            "review_due": "PT90S",
            "review_reminder_before": ["PT30S"],
        }
    ]
    async for found in _client(ts_env, db, task_queue, stages):
        yield found


async def test_iso_durations_time_in_seconds_and_no_grace_keeps_the_review(
    seconds: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    _, row = await _taken(seconds, db, task_queue)
    await ts_env.sleep(timedelta(seconds=59))
    assert _types(db) == []
    await ts_env.sleep(timedelta(seconds=2))
    assert _types(db) == ["review.reminder"]
    await ts_env.sleep(timedelta(seconds=30))
    assert _types(db) == ["review.reminder", "review.overdue"]
    await ts_env.sleep(timedelta(days=400))
    assert _row(db, row).status == AssignmentStatus.ASSIGNED
    assert _types(db) == ["review.reminder", "review.overdue"]
