"""A cancel of InductionRegistrationWorkflow is refused and recorded; the registration goes on."""

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.client import WorkflowExecutionStatus as Status
from temporalio.testing import WorkflowEnvironment

from api.services.induction import start_operation, workflow_id
from domain.induction import ProgrammeType
from tests.support.operator import (
    OPERATOR,
    audit_rows,
    events_of,
    eventually,
    operator_client,
    status_of,
)
from worker import build_worker
from workflows.induction import InductionRegistrationWorkflow
from workflows.payloads.induction import AbClaimInput, SchoolReportInput

TRN = "7654322"


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """Time-skipping client with a worker on the test's own queue."""
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _school_report(client: Client, task_queue: str) -> None:
    await client.execute_update_with_start_workflow(
        InductionRegistrationWorkflow.school_report,
        SchoolReportInput(
            actor="sam",
            school_id="school-1",
            appropriate_body_id="ab-1",
            programme_type=ProgrammeType.SCHOOL_LED,
            start_date=date(2025, 9, 1),
        ),
        start_workflow_operation=start_operation(TRN, task_queue=task_queue),
    )


async def test_a_cancel_is_refused_recorded_and_the_reminder_still_comes(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    await _school_report(client, task_queue)
    handle = client.get_workflow_handle_for(InductionRegistrationWorkflow.run, workflow_id(TRN))
    await ts_env.sleep(timedelta(days=10))

    operator = await operator_client(client)
    await operator.get_workflow_handle(handle.id).cancel(reason="test registration")
    await operator.get_workflow_handle(handle.id).cancel()  # a second request: nothing new

    [audit] = await eventually(lambda: audit_rows(db, TRN, "cancel_refused"))
    assert (audit.actor, audit.detail["reason"]) == (OPERATOR, "CANCELLED_BY_OPERATOR")
    assert audit.detail["note"] == "test registration"
    assert "teacher's record" in audit.detail["why"]
    assert await status_of(handle) == Status.RUNNING
    await ts_env.sleep(timedelta(days=21))  # day 31: the reminder the wait was armed for
    assert len(events_of(db, "induction.ab_claim_reminder")) == 1
    assert len(audit_rows(db, TRN, "cancel_refused")) == 1


async def test_after_a_refused_cancel_an_ab_can_claim(
    client: Client, db: Engine, task_queue: str
) -> None:
    await _school_report(client, task_queue)
    handle = client.get_workflow_handle_for(InductionRegistrationWorkflow.run, workflow_id(TRN))
    await (await operator_client(client)).get_workflow_handle(handle.id).cancel()
    await eventually(lambda: audit_rows(db, TRN, "cancel_refused"))

    claimed = await handle.execute_update(
        InductionRegistrationWorkflow.ab_claim,
        AbClaimInput(
            actor="ab-2-user",
            appropriate_body_id="ab-2",
            programme_type=ProgrammeType.PROVIDER_LED,
            started_on=date(2025, 9, 2),
        ),
    )

    assert claimed.snapshot.claimed_by == "ab-2"
    assert (await handle.query(InductionRegistrationWorkflow.state)).claimed_by == "ab-2"
