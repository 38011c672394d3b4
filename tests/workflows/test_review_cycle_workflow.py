"""The LOQ cycle under the time-skipping server: deadline, reminders, expiry, resubmission."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.services import application as applications
from api.services import review as reviews
from domain.access import Principal, Role
from domain.application import ApplicationStatus, AssessmentStatus
from domain.review import ResponseDecision, ReviewDecision, ReviewStatus
from models.event import OutboxEvent
from models.review import ReviewResponseWrite
from tests.support.seed import T0, seed_draft, seed_reviewer, seed_template
from worker import build_worker
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import start_operation, submit_update_id
from workflows.payloads.application import StartApplicationReviewInput, SubmitApplicationInput
from workflows.payloads.review import (
    AssignInput,
    CaseSnapshot,
    StartReviewInput,
    SubmitReviewInput,
)

SINGLE_LEVEL = [{"code": "assessment", "name": "Assessment", "levels": 1}]
ALICE = Principal(sub="alice", roles=frozenset({Role.APPLICANT}))

T_EDIT = T0
Handle = WorkflowHandle[ApplicationReviewWorkflow, CaseSnapshot]


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client, a worker, a single-level template and one reviewer."""
    seed_template(db, stages=SINGLE_LEVEL)
    seed_reviewer(db, "rev-1")
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _submitted(client: Client, db: Engine, task_queue: str) -> tuple[str, Handle]:
    application_id = seed_draft(db)
    start = start_operation(
        StartApplicationReviewInput(
            application_id=application_id,
            template_code="qts",
            template_version=1,
            applicant_id="alice",
        ),
        task_queue=task_queue,
    )
    await client.execute_update_with_start_workflow(
        ApplicationReviewWorkflow.submit,
        SubmitApplicationInput(actor="alice", submission=1),
        start_workflow_operation=start,
        id=submit_update_id(1),
    )
    handle = client.get_workflow_handle_for(
        ApplicationReviewWorkflow.run, f"application-{application_id}"
    )
    return application_id, handle


async def _review_with_loq(db: Engine, handle: Handle) -> str:
    """rev-1 takes the case, declines the name answer and sends a list of questions."""
    case = await handle.query(ApplicationReviewWorkflow.state)
    assignment = case.assignments[0]
    await handle.execute_update(
        ApplicationReviewWorkflow.assign, AssignInput(assignment_id=assignment.id, actor="rev-1")
    )
    started = await handle.execute_update(
        ApplicationReviewWorkflow.start_review,
        StartReviewInput(assignment_id=assignment.id, actor="rev-1"),
    )
    with Session(db) as session:
        shown = reviews.review(session, started.review_id)
    for response in shown.responses:
        body = ReviewResponseWrite(decision=ResponseDecision.APPROVE)
        if response.element_code == "full_name":
            body = ReviewResponseWrite(
                decision=ResponseDecision.DECLINE,
                failure_reason="id_mismatch",
                comment="Use the name on your passport",
            )
        with Session(db) as session:
            reviews.write_response(
                session, "rev-1", started.review_id, response.target_id, body, at=T_EDIT
            )
    await handle.execute_update(
        ApplicationReviewWorkflow.submit_review,
        SubmitReviewInput(
            review_id=started.review_id, actor="rev-1", decision=ReviewDecision.LIST_OF_QUESTIONS
        ),
    )
    return started.review_id


def _events(db: Engine, kind: str) -> list[OutboxEvent]:
    with Session(db) as session:
        return list(
            session.exec(
                select(OutboxEvent).where(OutboxEvent.type == kind).order_by(col(OutboxEvent.id))
            ).all()
        )


async def test_an_unanswered_loq_reminds_then_expires_after_42_days(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    _, handle = await _submitted(client, db, task_queue)
    await _review_with_loq(db, handle)
    case = await handle.query(ApplicationReviewWorkflow.state)
    assert case.status == ApplicationStatus.CHANGES_REQUIRED
    assert case.assessment_status == AssessmentStatus.AWAITING_INFORMATION
    assert case.loq_deadline_at is not None
    sent = _events(db, "application.loq_sent")[0].occurred_at
    assert case.loq_deadline_at - sent == timedelta(days=42)

    await ts_env.sleep(timedelta(days=34))
    assert _events(db, "application.loq_reminder") == []
    await ts_env.sleep(timedelta(days=1, hours=1))  # day 35: 7 days before the deadline
    assert len(_events(db, "application.loq_reminder")) == 1
    await ts_env.sleep(timedelta(days=6))  # day 41: 1 day before
    assert len(_events(db, "application.loq_reminder")) == 2
    assert (await handle.query(ApplicationReviewWorkflow.state)).status == (
        ApplicationStatus.CHANGES_REQUIRED
    )

    await ts_env.sleep(timedelta(days=1))  # day 42: the deadline completes it
    result = await handle.result()

    assert result.status == ApplicationStatus.COMPLETED
    assert result.outcome_reason == "LOQ_EXPIRED"
    assert result.outcome == "REJECTED"
    assert result.assignments == []
    assert _events(db, "application.completed")[0].data["reason"] == "LOQ_EXPIRED"


async def test_a_resubmission_cancels_the_deadline_and_sets_the_review_pending(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    application_id, handle = await _submitted(client, db, task_queue)
    review_id = await _review_with_loq(db, handle)
    await ts_env.sleep(timedelta(days=10))
    with Session(db) as session:
        applications.save_response(
            session, ALICE, application_id, "full_name", "Ada King", at=T_EDIT
        )

    case = await handle.execute_update(
        ApplicationReviewWorkflow.submit,
        SubmitApplicationInput(actor="alice", submission=2),
        id=submit_update_id(2),
    )

    assert case.status == ApplicationStatus.SUBMITTED
    assert case.loq_deadline_at is None
    assert case.assessment_status == AssessmentStatus.IN_PROGRESS
    assert case.assignments[0].review_status == ReviewStatus.PENDING
    await ts_env.sleep(timedelta(days=60))
    assert (await handle.query(ApplicationReviewWorkflow.state)).status == (
        ApplicationStatus.SUBMITTED
    )
    assert _events(db, "application.loq_reminder") == []
    with Session(db) as session:
        assert reviews.review(session, review_id).status == ReviewStatus.PENDING


async def test_the_full_loq_cycle_ends_approved(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id, handle = await _submitted(client, db, task_queue)
    review_id = await _review_with_loq(db, handle)
    with Session(db) as session:
        applications.save_response(
            session, ALICE, application_id, "full_name", "Ada King", at=T_EDIT
        )
    await handle.execute_update(
        ApplicationReviewWorkflow.submit,
        SubmitApplicationInput(actor="alice", submission=2),
        id=submit_update_id(2),
    )
    case = await handle.query(ApplicationReviewWorkflow.state)

    restarted = await handle.execute_update(
        ApplicationReviewWorkflow.start_review,
        StartReviewInput(assignment_id=case.assignments[0].id, actor="rev-1"),
    )
    with Session(db) as session:
        shown = reviews.review(session, review_id)
    assert restarted.review_id == review_id
    assert not restarted.created
    assert [r.element_code for r in shown.responses if r.decision is None] == ["full_name"]
    with Session(db) as session:
        reviews.write_response(
            session,
            "rev-1",
            review_id,
            shown.missing[0],
            ReviewResponseWrite(decision=ResponseDecision.APPROVE),
            at=T_EDIT,
        )
    await handle.execute_update(
        ApplicationReviewWorkflow.submit_review,
        SubmitReviewInput(review_id=review_id, actor="rev-1", decision=ReviewDecision.CONFORM),
    )

    result = await handle.result()
    assert result.status == ApplicationStatus.COMPLETED
    assert result.outcome == "APPROVED"
