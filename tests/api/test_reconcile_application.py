"""Reconcile and applications: a terminated or deleted workflow is found and resumed from
PostgreSQL (same id), and the case goes on; a workflow of a closed case is ended."""

import uuid

import httpx
from sqlalchemy import Engine, update
from sqlmodel import Session, col
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.services.reconcile import Problem, repair, scan
from models.application import Application
from tests.api.reconcile_flows import (
    audited,
    audits,
    delete,
    describe,
    repair_all,
    running_run,
    scan_until,
    terminate,
)
from tests.api.review_flows import (
    answer,
    get_application,
    get_review,
    history_actions,
    sent_back,
    submitted_case,
)
from tests.support.tokens import bearer
from workflows.application import ApplicationReviewWorkflow
from workflows.payloads.application import StartApplicationReviewInput

ALICE = bearer("alice", "applicant")


async def test_a_terminated_application_is_reported_resumed_and_resubmitted(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    application_id, _, review_id = await sent_back(api, ALICE)
    workflow_id = f"application-{application_id}"
    ended_run = await terminate(client, workflow_id)
    await answer(api, ALICE, application_id, "full_name", "Augusta Ada King")
    orphaned = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    [found] = await scan_until(db, client, task_queue, 1)
    [repaired] = await repair(db, client, [found], task_queue=task_queue)

    assert orphaned.status_code == 409  # what an operator's terminate did before reconcile
    assert (found.problem, found.label, found.business_id) == (
        Problem.NOT_RUNNING,
        "application",
        application_id,
    )
    assert (found.db_state, found.workflow_state, found.run_id) == (
        "CHANGES_REQUIRED",
        "TERMINATED",
        ended_run,
    )
    assert repaired.repaired
    assert repaired.action.startswith("restarted")
    assert await running_run(client, workflow_id) != ended_run
    resumed = await audited(db, application_id, "workflow_resumed")
    assert (resumed.actor, resumed.detail["found"]) == ("reconcile", "TERMINATED")
    assert "workflow_resumed" in await history_actions(api, application_id)
    resubmitted = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "SUBMITTED"
    assert (await get_review(api, review_id))["status"] == "PENDING"
    assert await scan_until(db, client, task_queue, 0) == []


async def test_a_deleted_workflow_is_restarted_and_the_application_can_be_withdrawn(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    application_id = await submitted_case(api, ALICE)
    workflow_id = f"application-{application_id}"
    await delete(client, workflow_id)

    [found] = await scan_until(db, client, task_queue, 1)
    await repair_all(db, client, task_queue, 1)

    assert (found.db_state, found.workflow_state, found.run_id) == ("SUBMITTED", "NOT_FOUND", None)
    withdrawn = await api.post(f"/v1/applications/{application_id}/withdraw", headers=ALICE)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "WITHDRAWN"
    handle = client.get_workflow_handle_for(ApplicationReviewWorkflow.run, workflow_id)
    assert (await handle.result()).status == "WITHDRAWN"
    assert (await get_application(api, application_id, ALICE))["status"] == "WITHDRAWN"


async def test_the_running_workflow_of_a_closed_application_is_terminated_once(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    application_id = await submitted_case(api, ALICE)
    workflow_id = f"application-{application_id}"
    run_id = await running_run(client, workflow_id)
    with Session(db) as session, session.begin():  # closed behind its workflow's back (by SQL)
        session.execute(
            update(Application)
            .where(col(Application.id) == application_id)
            .values(status="WITHDRAWN")
        )

    [found] = await scan_until(db, client, task_queue, 1)
    [ended] = await repair(db, client, [found], task_queue=task_queue)
    again = await repair(db, client, [found], task_queue=task_queue)

    assert (found.problem, found.db_state, found.run_id) == (
        Problem.CASE_CLOSED,
        "WITHDRAWN",
        run_id,
    )
    assert (ended.action, ended.repaired) == ("terminated", True)
    described = await describe(client, workflow_id)
    assert described is not None
    assert described.status == WorkflowExecutionStatus.TERMINATED
    [audit] = audits(db, application_id, "workflow_ended")
    assert (audit.actor, audit.detail["run_id"], audit.detail["done"]) == (
        "reconcile",
        run_id,
        "terminate",
    )
    assert again[0].action == "nothing: it ended meanwhile"
    assert await scan(db, client, task_queue=task_queue) == []


async def test_a_workflow_without_a_case_is_reported_and_left_alone(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    stray = str(uuid.uuid4())
    await client.start_workflow(
        ApplicationReviewWorkflow.run,
        StartApplicationReviewInput(
            application_id=stray, template_code="qts", template_version=1, applicant_id="x"
        ),
        id=f"application-{stray}",
        task_queue=task_queue,
    )

    [found] = await scan_until(db, client, task_queue, 1)
    [left] = await repair(db, client, [found], task_queue=task_queue)

    assert (found.problem, found.business_id, found.db_state) == (
        Problem.NO_CASE,
        stray,
        "absent",
    )
    assert not left.repaired
    assert left.action.startswith("left alone")
    await running_run(client, f"application-{stray}")
