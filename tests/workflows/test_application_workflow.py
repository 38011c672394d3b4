"""ApplicationReviewWorkflow under the time-skipping server, with real activities and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.application import ApplicationStatus, AssessmentStatus
from models.application import Application, ApplicationResponse
from models.event import AuditEntry
from tests.support.seed import seed_draft, seed_template
from worker import build_worker
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import start_operation, submit_update_id
from workflows.payloads.application import (
    StartApplicationReviewInput,
    SubmitApplicationInput,
    WithdrawApplicationInput,
)
from workflows.payloads.review import CaseSnapshot


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """The time-skipping client with a worker running every workflow and activity."""
    seed_template(db)
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _submit(
    client: Client, task_queue: str, application_id: str, submission: int = 1
) -> CaseSnapshot:
    start = start_operation(
        StartApplicationReviewInput(
            application_id=application_id,
            template_code="qts",
            template_version=1,
            applicant_id="alice",
        ),
        task_queue=task_queue,
    )
    return await client.execute_update_with_start_workflow(
        ApplicationReviewWorkflow.submit,
        SubmitApplicationInput(actor="alice", submission=submission),
        start_workflow_operation=start,
        id=submit_update_id(submission),
    )


def _handle(
    client: Client, application_id: str
) -> WorkflowHandle[ApplicationReviewWorkflow, CaseSnapshot]:
    return client.get_workflow_handle_for(
        ApplicationReviewWorkflow.run, f"application-{application_id}"
    )


async def test_submission_records_rows_stamped_with_workflow_time(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id = seed_draft(db)

    state = await _submit(client, task_queue, application_id)

    assert state.status == ApplicationStatus.SUBMITTED
    assert state.stage == "assessment"
    assert state.assessment_status == AssessmentStatus.NOT_STARTED
    assert await _handle(client, application_id).query(ApplicationReviewWorkflow.state) == state
    with Session(db) as session:
        application = session.get(Application, application_id)
        assert application is not None
        stamped = session.exec(select(ApplicationResponse.submitted_at)).all()
    assert application.submitted_at is not None
    assert set(stamped) == {application.submitted_at}
    assert isinstance(application.submitted_at, datetime)


async def test_a_repeated_update_id_is_answered_once(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id = seed_draft(db)

    first = await _submit(client, task_queue, application_id)
    repeat = await _submit(client, task_queue, application_id)

    assert repeat == first
    with Session(db) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == "submitted")).all()
    assert len(rows) == 1


async def test_the_validator_refuses_a_second_submission_while_submitted(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id = seed_draft(db)
    await _submit(client, task_queue, application_id)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _submit(client, task_queue, application_id, submission=2)

    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "Conflict"
    assert cause.details[0]["allowed"] == ["withdraw"]


async def test_an_incomplete_application_fails_the_update_not_the_workflow(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id = seed_draft(db, complete=False)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _submit(client, task_queue, application_id)

    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "Invalid"
    assert "birth_date" in cause.message
    state = await _handle(client, application_id).query(ApplicationReviewWorkflow.state)
    assert state.status == ApplicationStatus.DRAFT
    with Session(db) as session:
        application = session.get(Application, application_id)
        assert application is not None
        assert application.status == ApplicationStatus.DRAFT


async def test_withdrawal_completes_the_workflow(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id = seed_draft(db)
    await _submit(client, task_queue, application_id)
    handle = _handle(client, application_id)

    await handle.execute_update(
        ApplicationReviewWorkflow.withdraw, WithdrawApplicationInput(actor="alice")
    )

    result = await handle.result()
    assert result.status == ApplicationStatus.WITHDRAWN
