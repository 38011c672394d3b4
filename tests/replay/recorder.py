"""Record workflow histories for the replay tests: `python -m tests.replay.recorder`.

Run it when a workflow changes shape on purpose (behind `workflow.patched`), and
commit the new file beside the old ones: old histories must keep replaying.
"""

import asyncio
import tempfile
import uuid
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from core.db import make_engine
from core.pg import start_embedded, stop_embedded
from core.temporal import register_search_attributes
from tests.support.infra import TEST_SERVER, forget_database, fresh_database
from tests.support.seed import seed_draft, seed_template
from worker import build_worker
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import start_operation
from workflows.payloads.application import (
    StartApplicationReviewInput,
    SubmitApplicationInput,
    WithdrawApplicationInput,
)

HISTORIES = Path(__file__).parent / "histories"


async def record_application_submit_withdraw(database_url: str) -> str:
    """Submit then withdraw one application; return its history as JSON."""
    engine = make_engine(database_url)
    seed_template(engine)
    application_id = seed_draft(engine)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    async with env:
        await register_search_attributes(env.client)
        queue = f"record-{uuid.uuid4().hex[:6]}"
        async with build_worker(env.client, engine, task_queue=queue, threads=2):
            start = start_operation(
                StartApplicationReviewInput(
                    application_id=application_id,
                    template_code="qts",
                    template_version=1,
                    applicant_id="alice",
                ),
                task_queue=queue,
            )
            await env.client.execute_update_with_start_workflow(
                ApplicationReviewWorkflow.submit,
                SubmitApplicationInput(actor="alice", submission=1),
                start_workflow_operation=start,
            )
            handle = env.client.get_workflow_handle(f"application-{application_id}")
            await handle.execute_update(
                ApplicationReviewWorkflow.withdraw, WithdrawApplicationInput(actor="alice")
            )
            await handle.result()
            history = await handle.fetch_history()
    engine.dispose()
    return history.to_json()


async def record_review_cycle_with_loq(database_url: str) -> str:
    """Assign, review, LOQ, a reminder, resubmission, restart, CONFORM: the whole level-1 cycle."""
    from datetime import timedelta

    from sqlmodel import Session

    from api.services import application as applications
    from api.services import review as reviews
    from domain.access import Principal, Role
    from domain.review import ResponseDecision, ReviewDecision
    from models.review import ReviewResponseWrite
    from tests.support.seed import T0, seed_reviewer
    from workflows.payloads.review import AssignInput, StartReviewInput, SubmitReviewInput

    engine = make_engine(database_url)
    seed_template(engine, code="loq", stages=[{"code": "assessment", "name": "A", "levels": 1}])
    seed_reviewer(engine, "rev-1", code="loq")
    application_id = seed_draft(engine, code="loq")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=pydantic_data_converter
    )
    async with env:
        await register_search_attributes(env.client)
        queue = f"record-{uuid.uuid4().hex[:6]}"

        async def submit(number: int) -> None:
            start = start_operation(
                StartApplicationReviewInput(
                    application_id=application_id,
                    template_code="loq",
                    template_version=1,
                    applicant_id="alice",
                ),
                task_queue=queue,
            )
            await env.client.execute_update_with_start_workflow(
                ApplicationReviewWorkflow.submit,
                SubmitApplicationInput(actor="alice", submission=number),
                start_workflow_operation=start,
            )

        def decide(review_id: str, decline: str | None) -> None:
            with Session(engine) as session:
                shown = reviews.review(session, review_id)
            for response in shown.responses:
                body = ReviewResponseWrite(decision=ResponseDecision.APPROVE)
                if response.element_code == decline:
                    body = ReviewResponseWrite(
                        decision=ResponseDecision.DECLINE, failure_reason="id_mismatch"
                    )
                if response.decision is None or response.element_code == decline:
                    with Session(engine) as session:
                        reviews.write_response(
                            session, "rev-1", review_id, response.target_id, body, at=T0
                        )

        async with build_worker(env.client, engine, task_queue=queue, threads=2):
            await submit(1)
            handle = env.client.get_workflow_handle(f"application-{application_id}")
            case = await handle.query(ApplicationReviewWorkflow.state)
            row = case.assignments[0].id
            await handle.execute_update(
                ApplicationReviewWorkflow.assign, AssignInput(assignment_id=row, actor="rev-1")
            )
            start = StartReviewInput(assignment_id=row, actor="rev-1")
            started = await handle.execute_update(ApplicationReviewWorkflow.start_review, start)
            decide(started.review_id, "full_name")
            await handle.execute_update(
                ApplicationReviewWorkflow.submit_review,
                SubmitReviewInput(
                    review_id=started.review_id,
                    actor="rev-1",
                    decision=ReviewDecision.LIST_OF_QUESTIONS,
                ),
            )
            await env.sleep(timedelta(days=36))  # past the first reminder
            alice = Principal(sub="alice", roles=frozenset({Role.APPLICANT}))
            with Session(engine) as session:
                applications.save_response(
                    session, alice, application_id, "full_name", "Ada King", at=T0
                )
            await submit(2)
            await handle.execute_update(ApplicationReviewWorkflow.start_review, start)
            decide(started.review_id, None)
            await handle.execute_update(
                ApplicationReviewWorkflow.submit_review,
                SubmitReviewInput(
                    review_id=started.review_id, actor="rev-1", decision=ReviewDecision.CONFORM
                ),
            )
            await handle.result()
            history = await handle.fetch_history()
    engine.dispose()
    return history.to_json()


def main() -> None:
    """Record every history into tests/replay/histories/."""
    pgdata = Path(tempfile.mkdtemp(prefix="casework-record-")) / "pg"
    admin_url = start_embedded(pgdata)
    name, url = fresh_database(admin_url)
    try:
        text = asyncio.run(record_application_submit_withdraw(url))
        (HISTORIES / "application_submit_withdraw.json").write_text(text)
        text = asyncio.run(record_review_cycle_with_loq(url))
        (HISTORIES / "application_review_cycle_loq.json").write_text(text)
    finally:
        forget_database(admin_url, name)
        stop_embedded(pgdata)


if __name__ == "__main__":
    main()
