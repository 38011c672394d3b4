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


def main() -> None:
    """Record every history into tests/replay/histories/."""
    pgdata = Path(tempfile.mkdtemp(prefix="casework-record-")) / "pg"
    admin_url = start_embedded(pgdata)
    name, url = fresh_database(admin_url)
    try:
        text = asyncio.run(record_application_submit_withdraw(url))
        (HISTORIES / "application_submit_withdraw.json").write_text(text)
    finally:
        forget_database(admin_url, name)
        stop_embedded(pgdata)


if __name__ == "__main__":
    main()
