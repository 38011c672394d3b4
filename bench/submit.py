"""Submit throughput and latency through the workflow, against one direct transaction.

Starts an embedded PostgreSQL and a Temporal dev server (both real), runs an
in-process worker, and submits N complete drafts through the same path as
`POST /v1/applications/{id}/submit` (update-with-start, one activity). The
baseline in the same run is the floor: the same activity called directly, one
transaction per application, no Temporal.

    .venv/bin/python bench/submit.py [N] [CONCURRENCY]
"""

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.application import ApplicationActivities
from core.db import make_engine
from core.migrate import upgrade
from core.pg import drop_database, ensure_database, start_embedded, stop_embedded
from core.temporal import SEARCH_ATTRIBUTES
from models.application import Application, ApplicationResponse
from models.template import Template
from worker import build_worker
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import start_operation
from workflows.payloads.application import (
    RecordSubmissionInput,
    StartApplicationReviewInput,
    SubmitApplicationInput,
)

BIN = Path(sys.executable).parent
DEFINITION = {
    "sections": [
        {
            "code": "personal",
            "title": "Personal",
            "elements": [{"code": "name", "title": "Name", "type": "text", "required": True}],
            "checks": ["ID matches"],
            "failure_reasons": [{"code": "id", "label": "ID", "kind": "further_information"}],
        }
    ],
    "stages": [{"code": "main", "name": "Main", "levels": 2}],
}


def seed(engine: Engine, count: int) -> list[str]:
    """`count` complete drafts on template `bench` v1."""
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with Session(engine) as session, session.begin():
        if session.get(Template, ("bench", 1)) is None:
            session.add(
                Template(
                    code="bench",
                    version=1,
                    name="Bench",
                    definition=DEFINITION,
                    published_at=now,
                    published_by="bench",
                )
            )
        for application_id in ids:
            session.add(
                Application(
                    id=application_id,
                    template_code="bench",
                    template_version=1,
                    applicant_id="bench",
                    created_at=now,
                    updated_at=now,
                )
            )
        session.flush()
        for application_id in ids:
            session.add(
                ApplicationResponse(
                    id=str(uuid.uuid4()),
                    application_id=application_id,
                    element_code="name",
                    value="Ada",
                    created_at=now,
                    updated_at=now,
                )
            )
    return ids


async def submit(client: Client, queue: str, application_id: str) -> float:
    """One submit as the API does it; returns seconds taken."""
    began = time.perf_counter()
    start = start_operation(
        StartApplicationReviewInput(
            application_id=application_id,
            template_code="bench",
            template_version=1,
            applicant_id="bench",
        ),
        task_queue=queue,
    )
    await client.execute_update_with_start_workflow(
        ApplicationReviewWorkflow.submit,
        SubmitApplicationInput(actor="bench", submission=1),
        start_workflow_operation=start,
        id="submit-1",
    )
    return time.perf_counter() - began


async def through_workflows(engine: Engine, ids: list[str], concurrency: int) -> list[float]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    queue = "bench"
    gate = asyncio.Semaphore(concurrency)

    async def one(application_id: str) -> float:
        async with gate:
            return await submit(env.client, queue, application_id)

    async with env, build_worker(env.client, engine, task_queue=queue, threads=16):
        return list(await asyncio.gather(*(one(i) for i in ids)))


def directly(engine: Engine, ids: list[str]) -> list[float]:
    activities = ApplicationActivities(engine)
    times = []
    for application_id in ids:
        began = time.perf_counter()
        activities.record_submission.__wrapped__(  # type: ignore[attr-defined]
            activities,
            RecordSubmissionInput(
                application_id=application_id, actor="bench", submission=1, at=datetime.now(UTC)
            ),
        )
        times.append(time.perf_counter() - began)
    return times


def report(name: str, times: list[float], wall: float) -> None:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{name:<28} {len(times) / wall:8.1f}/s   p50 {statistics.median(times) * 1000:7.1f} ms"
        f"   p95 {p95 * 1000:7.1f} ms"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    pgdata = Path(tempfile.mkdtemp(prefix="casework-bench-")) / "pg"
    admin = start_embedded(pgdata)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    url = ensure_database(admin, name)
    upgrade(url)
    engine = make_engine(url, pool_size=20)
    try:
        baseline_ids, workflow_ids = seed(engine, count), seed(engine, count)
        began = time.perf_counter()
        base = directly(engine, baseline_ids)
        base_wall = time.perf_counter() - began
        began = time.perf_counter()
        flow = asyncio.run(through_workflows(engine, workflow_ids, concurrency))
        flow_wall = time.perf_counter() - began
        print(f"submit: {count} applications, workflow concurrency {concurrency}")
        report("direct transaction (floor)", base, base_wall)
        report("update-with-start workflow", flow, flow_wall)
        print(
            f"ratio (workflow p50 / floor p50): "
            f"{statistics.median(flow) / statistics.median(base):.1f}x"
        )
    finally:
        engine.dispose()
        drop_database(admin, name)
        stop_embedded(pgdata)


if __name__ == "__main__":
    main()
