"""A cancel of ApplicationReviewWorkflow is the operator's withdrawal (SPEC §6), recorded."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from api.services import application as applications
from api.services import review as reviews
from domain.access import Principal, Role
from domain.application import ApplicationStatus
from domain.errors import Conflict
from domain.review import ResponseDecision, ReviewDecision, ReviewStatus
from models.application import Application
from models.review import Assignment, HeldSection, Review, ReviewResponseWrite
from tests.support.infra import TEMPORAL_CLI
from tests.support.operator import (
    OPERATOR,
    audit_rows,
    events_of,
    eventually,
    operator_client,
    status_of,
)
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
    UnassignInput,
)

ALICE = Principal(sub="alice", roles=frozenset({Role.APPLICANT}))
SINGLE_LEVEL = [{"code": "assessment", "name": "Assessment", "levels": 1}]
Handle = WorkflowHandle[ApplicationReviewWorkflow, CaseSnapshot]


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client, a worker, a single-level template and one reviewer."""
    seed_template(db, stages=SINGLE_LEVEL)
    seed_reviewer(db, "rev-1")
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _submit(client: Client, task_queue: str, application_id: str) -> Handle:
    start = start_operation(
        StartApplicationReviewInput(
            application_id=application_id,
            template_code="qts",
            template_version=1,
            applicant_id="alice",
        ),
        task_queue=task_queue,
    )
    try:
        await client.execute_update_with_start_workflow(
            ApplicationReviewWorkflow.submit,
            SubmitApplicationInput(actor="alice", submission=1),
            start_workflow_operation=start,
            id=submit_update_id(1),
        )
    finally:
        handle = client.get_workflow_handle_for(
            ApplicationReviewWorkflow.run, f"application-{application_id}"
        )
    return handle


async def _under_review(client: Client, db: Engine, task_queue: str) -> tuple[str, Handle]:
    """Submitted; rev-1 holds the sections and has started a (draft) review."""
    application_id = seed_draft(db)
    handle = await _submit(client, task_queue, application_id)
    row = (await handle.query(ApplicationReviewWorkflow.state)).assignments[0].id
    await handle.execute_update(
        ApplicationReviewWorkflow.assign, AssignInput(assignment_id=row, actor="rev-1")
    )
    await handle.execute_update(
        ApplicationReviewWorkflow.start_review, StartReviewInput(assignment_id=row, actor="rev-1")
    )
    return application_id, handle


async def _cancel(client: Client, handle: Handle, reason: str = "") -> None:
    operator = await operator_client(client)
    await operator.get_workflow_handle(handle.id).cancel(reason=reason)


async def _ends_cancelled(handle: Handle) -> None:
    with pytest.raises(WorkflowFailureError) as ended:
        await handle.result()
    assert isinstance(ended.value.cause, CancelledError)
    assert await status_of(handle) == WorkflowExecutionStatus.CANCELED


def _application(db: Engine, application_id: str) -> Application:
    with Session(db) as session:
        application = session.get(Application, application_id)
        assert application is not None
        return application


async def test_a_cancel_withdraws_the_case_for_the_operator_and_closes_its_assignments(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id, handle = await _under_review(client, db, task_queue)

    await _cancel(client, handle, reason="duplicate of another case")

    await _ends_cancelled(handle)
    assert _application(db, application_id).status == ApplicationStatus.WITHDRAWN
    [audit] = audit_rows(db, application_id, "withdrawn")
    assert audit.actor == OPERATOR
    assert audit.detail["reason"] == "CANCELLED_BY_OPERATOR"
    assert audit.detail["note"] == "duplicate of another case"
    [event] = events_of(db, "application.withdrawn")
    assert event.subject == application_id
    assert event.data["reason"] == "CANCELLED_BY_OPERATOR"
    with Session(db) as session:
        assignments = session.exec(
            select(Assignment).where(Assignment.application_id == application_id)
        ).all()
        reviews = session.exec(select(Review).where(Review.application_id == application_id)).all()
        held = session.exec(select(HeldSection)).all()
    assert assignments
    assert [a.closed_at is not None for a in assignments] == [True] * len(assignments)
    assert [r.status for r in reviews] == [ReviewStatus.DISCONTINUED.value]
    assert held == []


async def test_after_the_cancel_the_applicant_is_told_the_case_is_withdrawn(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id, handle = await _under_review(client, db, task_queue)
    await _cancel(client, handle)
    await _ends_cancelled(handle)

    with pytest.raises(Conflict) as withdraw:
        applications.withdraw_draft(db, ALICE, application_id, at=T0)
    with pytest.raises(Conflict) as submit:
        applications.prepare_submission(db, ALICE, application_id)

    assert "WITHDRAWN" in withdraw.value.detail
    assert "WITHDRAWN" in submit.value.detail
    with Session(db) as session:
        trail = applications.history(session, ALICE, application_id, limit=50, cursor=None)
    [entry] = [entry for entry in trail.items if entry.action == "withdrawn"]
    assert (entry.actor, entry.detail) == ("staff", {"reason": "CANCELLED_BY_OPERATOR"})


async def _send_loq(db: Engine, handle: Handle) -> None:
    """rev-1 declines the name answer and sends the applicant a list of questions."""
    case = await handle.query(ApplicationReviewWorkflow.state)
    review_id = case.assignments[0].review_id
    assert review_id is not None
    with Session(db) as session:
        shown = reviews.review(session, review_id)
    for response in shown.responses:
        body = ReviewResponseWrite(decision=ResponseDecision.APPROVE)
        if response.element_code == "full_name":
            body = ReviewResponseWrite(
                decision=ResponseDecision.DECLINE, failure_reason="id_mismatch"
            )
        with Session(db) as session:
            reviews.write_response(session, "rev-1", review_id, response.target_id, body, at=T0)
    await handle.execute_update(
        ApplicationReviewWorkflow.submit_review,
        SubmitReviewInput(
            review_id=review_id, actor="rev-1", decision=ReviewDecision.LIST_OF_QUESTIONS
        ),
    )


async def test_a_cancel_while_an_loq_is_open_ends_its_clock(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    application_id, handle = await _under_review(client, db, task_queue)
    await _send_loq(db, handle)
    assert _application(db, application_id).status == ApplicationStatus.CHANGES_REQUIRED
    await ts_env.sleep(timedelta(days=3))

    await _cancel(client, handle)

    await _ends_cancelled(handle)
    application = _application(db, application_id)
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.loq_deadline_at is None


async def test_a_never_submitted_application_is_withdrawn_as_a_draft(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id = seed_draft(db, complete=False)
    with pytest.raises(WorkflowUpdateFailedError):  # refused: the answers are incomplete
        await _submit(client, task_queue, application_id)
    handle = client.get_workflow_handle_for(
        ApplicationReviewWorkflow.run, f"application-{application_id}"
    )
    assert (await handle.query(ApplicationReviewWorkflow.state)).status == ApplicationStatus.DRAFT

    await _cancel(client, handle)

    await _ends_cancelled(handle)
    assert _application(db, application_id).status == ApplicationStatus.WITHDRAWN
    [audit] = audit_rows(db, application_id, "withdrawn")
    assert (audit.actor, audit.detail["reason"]) == (OPERATOR, "CANCELLED_BY_OPERATOR")


async def test_a_second_cancel_request_changes_nothing(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id, handle = await _under_review(client, db, task_queue)

    await _cancel(client, handle)
    await _cancel(client, handle)

    await _ends_cancelled(handle)
    assert len(audit_rows(db, application_id, "withdrawn")) == 1
    assert len(events_of(db, "application.withdrawn")) == 1
    with Session(db) as session:
        open_rows = session.exec(
            select(Assignment).where(col(Assignment.closed_at).is_(None))
        ).all()
    assert open_rows == []


async def test_temporal_workflow_cancel_from_the_cli_records_the_cli_user(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id, handle = await _under_review(client, db, task_queue)
    address = client.service_client.config.target_host

    cli = await asyncio.create_subprocess_exec(
        str(TEMPORAL_CLI),
        "workflow",
        "cancel",
        "--address",
        address,
        "-w",
        handle.id,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await cli.communicate()

    assert cli.returncode == 0, output.decode()
    await _ends_cancelled(handle)
    [audit] = audit_rows(db, application_id, "withdrawn")
    assert audit.actor.startswith("temporal-cli:")
    assert audit.detail["reason"] == "CANCELLED_BY_OPERATOR"


def _waits_on_a_row_lock(db: Engine) -> bool:
    with db.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


async def _cancel_handled(handle: Handle) -> bool:
    """True once a workflow task after the cancel request has completed."""
    events = [e.event_type for e in (await handle.fetch_history()).events]
    requested = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
    if requested not in events:
        return False
    return EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in events[events.index(requested) :]


async def test_an_update_under_way_finishes_first_and_new_ones_are_refused(
    client: Client, db: Engine, task_queue: str
) -> None:
    application_id = seed_draft(db)
    handle = await _submit(client, task_queue, application_id)
    row = (await handle.query(ApplicationReviewWorkflow.state)).assignments[0].id
    with Session(db) as blocker, blocker.begin():  # the assignment's activity waits for this
        blocker.exec(select(Application).where(Application.id == application_id).with_for_update())
        assigning = asyncio.create_task(
            handle.execute_update(
                ApplicationReviewWorkflow.assign, AssignInput(assignment_id=row, actor="rev-1")
            )
        )
        await eventually(lambda: _waits_on_a_row_lock(db))
        await _cancel(client, handle)
        for _ in range(200):
            if await _cancel_handled(handle):
                break
            await asyncio.sleep(0.05)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                ApplicationReviewWorkflow.unassign, UnassignInput(assignment_id=row, actor="rev-1")
            )
        assert "an operator cancelled this case" in str(refused.value.cause)

    assigned = await assigning
    await _ends_cancelled(handle)
    assert [a.id for a in assigned.assignments if a.assigned_sections] == [row]
    trail = [a.action for a in audit_rows(db, application_id, "self_assigned")]
    trail += [a.action for a in audit_rows(db, application_id, "withdrawn")]
    assert trail == ["self_assigned", "withdrawn"]
    with Session(db) as session:
        assignment = session.get(Assignment, row)
    assert assignment is not None
    assert assignment.closed_at is not None
