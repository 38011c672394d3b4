"""Histories of ApplicationReviewWorkflow: a withdrawal, an operator's cancel, and a whole
level-1 cycle with an LOQ."""

import contextlib
from datetime import timedelta

from sqlmodel import Session
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter

from api.services import application as applications
from api.services import review as reviews
from api.services.reconcile import check, repair
from domain.access import Principal, Role
from domain.review import ResponseDecision, ReviewDecision
from models.review import ReviewResponseWrite
from tests.replay.recording import Recording, history_json, recording
from tests.support.seed import T0, seed_draft, seed_reviewer, seed_template
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import start_operation
from workflows.payloads.application import (
    StartApplicationReviewInput,
    SubmitApplicationInput,
    WithdrawApplicationInput,
)
from workflows.payloads.review import AssignInput, StartReviewInput, SubmitReviewInput


async def _submit(rec: Recording, application_id: str, code: str, number: int) -> None:
    """Submission `number` of the application (starting its workflow the first time)."""
    start = start_operation(
        StartApplicationReviewInput(
            application_id=application_id,
            template_code=code,
            template_version=1,
            applicant_id="alice",
        ),
        task_queue=rec.queue,
    )
    await rec.client.execute_update_with_start_workflow(
        ApplicationReviewWorkflow.submit,
        SubmitApplicationInput(actor="alice", submission=number),
        start_workflow_operation=start,
    )


async def record_application_submit_withdraw(database_url: str) -> str:
    """Submit then withdraw one application."""
    async with recording(database_url) as rec:
        seed_template(rec.engine)
        application_id = seed_draft(rec.engine)
        await _submit(rec, application_id, "qts", 1)
        handle = rec.client.get_workflow_handle(f"application-{application_id}")
        await handle.execute_update(
            ApplicationReviewWorkflow.withdraw, WithdrawApplicationInput(actor="alice")
        )
        await handle.result()
        return await history_json(handle)


async def record_application_operator_cancel(database_url: str) -> str:
    """Submit, a reviewer takes the case, then an operator cancels it: withdrawn for them."""
    async with recording(database_url) as rec:
        seed_template(rec.engine)
        seed_reviewer(rec.engine, "rev-1")
        application_id = seed_draft(rec.engine)
        await _submit(rec, application_id, "qts", 1)
        handle = rec.client.get_workflow_handle(f"application-{application_id}")
        case = await handle.query(ApplicationReviewWorkflow.state)
        await handle.execute_update(
            ApplicationReviewWorkflow.assign,
            AssignInput(assignment_id=case.assignments[0].id, actor="rev-1"),
        )
        operator = await Client.connect(
            rec.client.service_client.config.target_host,
            identity="ops-jane@casework",
            data_converter=pydantic_data_converter,
        )
        await operator.get_workflow_handle(handle.id).cancel(reason="duplicate case")
        with contextlib.suppress(WorkflowFailureError):
            await handle.result()
        return await history_json(handle)


def _decide(rec: Recording, review_id: str, decline: str | None) -> None:
    """Approve every undecided response of the review, declining `decline` (if any)."""
    with Session(rec.engine) as session:
        shown = reviews.review(session, review_id)
    for response in shown.responses:
        body = ReviewResponseWrite(decision=ResponseDecision.APPROVE)
        if response.element_code == decline:
            body = ReviewResponseWrite(
                decision=ResponseDecision.DECLINE, failure_reason="id_mismatch"
            )
        if response.decision is None or response.element_code == decline:
            with Session(rec.engine) as session:
                reviews.write_response(session, "rev-1", review_id, response.target_id, body, at=T0)


async def record_review_cycle_with_loq(database_url: str) -> str:
    """Assign, review, LOQ, a reminder, resubmission, restart, CONFORM: the whole level-1 cycle."""
    async with recording(database_url) as rec:
        seed_template(
            rec.engine, code="loq", stages=[{"code": "assessment", "name": "A", "levels": 1}]
        )
        seed_reviewer(rec.engine, "rev-1", code="loq")
        application_id = seed_draft(rec.engine, code="loq")
        await _submit(rec, application_id, "loq", 1)
        handle = rec.client.get_workflow_handle(f"application-{application_id}")
        case = await handle.query(ApplicationReviewWorkflow.state)
        row = case.assignments[0].id
        await handle.execute_update(
            ApplicationReviewWorkflow.assign, AssignInput(assignment_id=row, actor="rev-1")
        )
        start = StartReviewInput(assignment_id=row, actor="rev-1")
        started = await handle.execute_update(ApplicationReviewWorkflow.start_review, start)
        _decide(rec, started.review_id, "full_name")
        await handle.execute_update(
            ApplicationReviewWorkflow.submit_review,
            SubmitReviewInput(
                review_id=started.review_id,
                actor="rev-1",
                decision=ReviewDecision.LIST_OF_QUESTIONS,
            ),
        )
        await rec.env.sleep(timedelta(days=36))  # past the first reminder
        alice = Principal(sub="alice", roles=frozenset({Role.APPLICANT}))
        with Session(rec.engine) as session:
            applications.save_response(
                session, alice, application_id, "full_name", "Ada King", at=T0
            )
        await _submit(rec, application_id, "loq", 2)
        await handle.execute_update(ApplicationReviewWorkflow.start_review, start)
        _decide(rec, started.review_id, None)
        await handle.execute_update(
            ApplicationReviewWorkflow.submit_review,
            SubmitReviewInput(
                review_id=started.review_id, actor="rev-1", decision=ReviewDecision.CONFORM
            ),
        )
        await handle.result()
        return await history_json(handle)


async def record_application_resumed_loq(database_url: str) -> str:
    """An LOQ case terminated on day 36 and resumed by reconcile on day 38: the resume
    activity, then the stored deadline's last reminder and the expiry (the resumed run)."""
    async with recording(database_url) as rec:
        seed_template(
            rec.engine, code="loq", stages=[{"code": "assessment", "name": "A", "levels": 1}]
        )
        seed_reviewer(rec.engine, "rev-1", code="loq")
        application_id = seed_draft(rec.engine, code="loq")
        await _submit(rec, application_id, "loq", 1)
        handle = rec.client.get_workflow_handle(f"application-{application_id}")
        case = await handle.query(ApplicationReviewWorkflow.state)
        row = case.assignments[0].id
        await handle.execute_update(
            ApplicationReviewWorkflow.assign, AssignInput(assignment_id=row, actor="rev-1")
        )
        start = StartReviewInput(assignment_id=row, actor="rev-1")
        started = await handle.execute_update(ApplicationReviewWorkflow.start_review, start)
        _decide(rec, started.review_id, "full_name")
        await handle.execute_update(
            ApplicationReviewWorkflow.submit_review,
            SubmitReviewInput(
                review_id=started.review_id,
                actor="rev-1",
                decision=ReviewDecision.LIST_OF_QUESTIONS,
            ),
        )
        await rec.env.sleep(timedelta(days=36))
        await handle.terminate(reason="an operator")
        await rec.env.sleep(timedelta(days=2))
        found = await check(rec.engine, rec.client, handle.id)
        assert found is not None
        [repaired] = await repair(rec.engine, rec.client, [found], task_queue=rec.queue)
        assert repaired.repaired, repaired.action
        resumed = rec.client.get_workflow_handle(handle.id)
        await rec.env.sleep(timedelta(days=5))
        await resumed.result()
        return await history_json(resumed)
