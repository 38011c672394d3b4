"""A three-level stage with an LOQ in the middle, under the time-skipping server."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.services import application as applications
from api.services import review as reviews
from domain.access import Principal, Role
from domain.application import ApplicationStatus
from domain.review import ResponseDecision, ReviewDecision, ReviewStatus
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

THREE_LEVELS = [{"code": "assessment", "name": "Assessment", "levels": 3}]
REVIEWERS = {1: "rev-1", 2: "con-2", 3: "con-3"}
ALICE = Principal(sub="alice", roles=frozenset({Role.APPLICANT}))
Handle = WorkflowHandle[ApplicationReviewWorkflow, CaseSnapshot]


@pytest.fixture
async def handle(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Handle]:
    """A submitted application on a three-level stage, a reviewer granted each level."""
    seed_template(db, stages=THREE_LEVELS)
    for level, user in REVIEWERS.items():
        seed_reviewer(db, user, level=level)
    application_id = seed_draft(db)
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        await _submit(ts_env.client, application_id, task_queue, 1)
        yield ts_env.client.get_workflow_handle_for(
            ApplicationReviewWorkflow.run, f"application-{application_id}"
        )


async def _submit(client: Client, application_id: str, task_queue: str, number: int) -> None:
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
        SubmitApplicationInput(actor="alice", submission=number),
        start_workflow_operation=start,
        id=submit_update_id(number),
    )


async def _open_review(handle: Handle, level: int) -> str:
    """The level's reviewer takes its row (if needed) and (re)starts the review."""
    case = await handle.query(ApplicationReviewWorkflow.state)
    row = next(a for a in case.assignments if a.level == level)
    if row.review_id is None:
        await handle.execute_update(
            ApplicationReviewWorkflow.assign,
            AssignInput(assignment_id=row.id, actor=REVIEWERS[level]),
        )
    started = await handle.execute_update(
        ApplicationReviewWorkflow.start_review,
        StartReviewInput(assignment_id=row.id, actor=REVIEWERS[level]),
    )
    return started.review_id


def _decide_missing(db: Engine, review_id: str, level: int, decline: str | None = None) -> None:
    with Session(db) as session:
        shown = reviews.review(session, review_id)
    for response in shown.responses:
        if response.decision is not None:
            continue
        body = ReviewResponseWrite(
            decision=ResponseDecision.APPROVE if level == 1 else ResponseDecision.AGREE
        )
        if response.element_code == decline:
            body = ReviewResponseWrite(
                decision=ResponseDecision.DECLINE,
                failure_reason="id_mismatch",
                comment="Passport name?",
            )
        with Session(db) as session:
            reviews.write_response(
                session, REVIEWERS[level], review_id, response.target_id, body, at=T0
            )


async def _submit_review(
    handle: Handle, review_id: str, level: int, decision: ReviewDecision | None = None
) -> CaseSnapshot:
    submitted = await handle.execute_update(
        ApplicationReviewWorkflow.submit_review,
        SubmitReviewInput(review_id=review_id, actor=REVIEWERS[level], decision=decision),
    )
    return submitted.snapshot


async def test_an_loq_in_the_middle_goes_back_to_level_one_then_up_to_approval(
    handle: Handle, db: Engine, ts_env: WorkflowEnvironment, task_queue: str
) -> None:
    first = await _open_review(handle, 1)
    _decide_missing(db, first, 1, decline="full_name")
    assert (await _submit_review(handle, first, 1)).level == 2
    second = await _open_review(handle, 2)
    _decide_missing(db, second, 2)
    with Session(db) as session:
        assert reviews.review(session, second).allowed_decisions == []  # a middle level
    assert (await _submit_review(handle, second, 2)).level == 3
    third = await _open_review(handle, 3)
    _decide_missing(db, third, 3)
    case = await _submit_review(handle, third, 3, ReviewDecision.LIST_OF_QUESTIONS)
    assert case.status == ApplicationStatus.CHANGES_REQUIRED
    with Session(db) as session:
        questions = applications.get(session, ALICE, case.application_id).questions
    assert [q.element_code for q in questions] == ["full_name"]

    await ts_env.sleep(timedelta(days=20))
    with Session(db) as session:
        applications.save_response(
            session, ALICE, case.application_id, "full_name", "Ada King", at=T0
        )
    await _submit(ts_env.client, case.application_id, task_queue, 2)
    case = await handle.query(ApplicationReviewWorkflow.state)
    assert (case.status, case.level) == (ApplicationStatus.SUBMITTED, 1)
    assert [a.review_status for a in case.assignments] == [ReviewStatus.PENDING] + [
        ReviewStatus.SUBMITTED
    ] * 2

    for level in (1, 2, 3):
        review_id = await _open_review(handle, level)
        with Session(db) as session:
            assert len(reviews.review(session, review_id).missing) == 1  # only the changed answer
        _decide_missing(db, review_id, level)
        decision = ReviewDecision.CONFORM if level == 3 else None
        case = await _submit_review(handle, review_id, level, decision)

    await ts_env.sleep(timedelta(days=60))  # the old deadline is long gone: nothing fires
    result = await handle.result()
    assert (result.status, result.outcome) == (ApplicationStatus.COMPLETED, "APPROVED")
