"""The saved-view queries of docs/operations.md, run as written against the dev server's
visibility, over real workflows a worker runs (real activities and PostgreSQL)."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.services.sla import start_sla
from domain.outcome import OutcomeStatus
from models.sla import SlaDefinition
from tests.support.outcome_seed import Records, seed_records
from tests.support.outcome_submit import submit_result
from tests.support.seed import T0, seed_draft, seed_template
from worker import build_worker
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import start_operation as start_application
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.payloads.application import StartApplicationReviewInput, SubmitApplicationInput
from workflows.payloads.outcome import (
    OutcomeSnapshot,
    ScheduleReleaseInput,
)
from workflows.payloads.sla import StartSlaInput, sla_workflow_id

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
VIEW = re.compile(r"<!-- saved-view: ([\w-]+) -->\n```text\n(.+?)\n```", re.S)
VIEWS: dict[str, str] = dict(VIEW.findall(DOC.read_text()))


def _query(name: str, **instants: datetime) -> str:
    """The doc's query `name` with its `{...}` placeholders written as UTC instants."""
    text = VIEWS[name]
    for placeholder, value in instants.items():
        text = text.replace("{" + placeholder.replace("_", " ") + "}", _utc(value))
    assert "{" not in text, f"unfilled placeholder in {text!r}"
    return text


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _ids(client: Client, query: str) -> set[str]:
    return {execution.id async for execution in client.list_workflows(query)}


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 30) -> None:
    """Visibility is eventually consistent: poll until `check` holds."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "visibility never showed it"
        await asyncio.sleep(0.3)


@pytest.fixture
async def client(
    dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> AsyncIterator[Client]:
    """The dev server's client with a worker running every workflow and activity."""
    async with build_worker(dev_env.client, db, task_queue=task_queue, threads=4):
        yield dev_env.client


def test_the_doc_has_the_saved_views_the_issue_asks_for() -> None:
    assert {"waiting-on-assigner", "releases-next-hour", "breached-slas"} <= set(VIEWS)


async def test_cases_waiting_on_an_assigner_for_more_than_2_days(
    client: Client, db: Engine, task_queue: str
) -> None:
    seed_template(db)  # no reviewer holds the level: the case waits on an assigner
    application_id = seed_draft(db)
    start = StartApplicationReviewInput(
        application_id=application_id, template_code="qts", template_version=1, applicant_id="al"
    )
    await client.execute_update_with_start_workflow(
        ApplicationReviewWorkflow.submit,
        SubmitApplicationInput(actor="al", submission=1),
        start_workflow_operation=start_application(start, task_queue=task_queue),
    )
    workflow_id = f"application-{application_id}"
    now = datetime.now(UTC)

    # It has waited a moment, not two days: "two days ago" a minute from now finds it.
    waited = _query("waiting-on-assigner", **{"2_days_ago": now + timedelta(minutes=1)})
    await _until(lambda: _has(client, waited, workflow_id))
    not_yet = _query("waiting-on-assigner", **{"2_days_ago": now - timedelta(days=2)})
    assert workflow_id not in await _ids(client, not_yet)

    # What the workflow's page shows: the case in words, and the next step in its details.
    handle = client.get_workflow_handle(workflow_id)
    described = await handle.describe()
    assert application_id in (await described.static_summary() or "")
    assert f"GET /v1/applications/{application_id}" in (await described.static_details() or "")
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "**SUBMITTED**" in metadata.current_details
    assert "waiting on **assigner**" in metadata.current_details
    assert metadata.definition.update_definitions  # each with its description
    assert all(update.description for update in metadata.definition.update_definitions)


async def _has(client: Client, query: str, workflow_id: str) -> bool:
    return workflow_id in await _ids(client, query)


async def _pending_outcome(
    client: Client, records: Records, task_queue: str
) -> WorkflowHandle[OutcomeReleaseWorkflow, OutcomeSnapshot]:
    snapshot = await submit_result(client, records, task_queue)
    assert snapshot.status == OutcomeStatus.PENDING_RELEASE
    workflow_id = f"result-{snapshot.outcome_id}"
    return client.get_workflow_handle_for(OutcomeReleaseWorkflow.run, workflow_id)


async def test_releases_due_in_the_next_hour(client: Client, db: Engine, task_queue: str) -> None:
    records = seed_records(db, auto_release=False)
    soon = await _pending_outcome(client, records, task_queue)
    later = await _pending_outcome(client, records, task_queue)
    now = datetime.now(UTC)
    for handle, at in ((soon, now + timedelta(minutes=30)), (later, now + timedelta(hours=3))):
        await handle.execute_update(
            OutcomeReleaseWorkflow.schedule_release,
            ScheduleReleaseInput(actor="releaser-1", release_at=at),
        )

    query = _query("releases-next-hour", now=now, in_1_hour=now + timedelta(hours=1))
    await _until(lambda: _has(client, query, soon.id))
    assert later.id not in await _ids(client, query)


def _define_sla(engine: Engine, code: str, goal: timedelta) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            SlaDefinition(
                code=code,
                version=1,
                name=code,
                start_event="a",
                stop_event="b",
                pause_rule="candidate_inactive",
                goal_s=int(goal.total_seconds()),
                warning_fractions=[],
                published_at=T0,
            )
        )


async def test_breached_slas_and_running_slas_from_their_first_task(
    client: Client, db: Engine, task_queue: str
) -> None:
    _define_sla(db, "one_second", timedelta(seconds=1))
    _define_sla(db, "ten_days", timedelta(days=10))
    subject = uuid.uuid4().hex[:8]
    for definition in ("one_second", "ten_days"):
        await start_sla(
            client, StartSlaInput(definition=definition, subject=subject), task_queue=task_queue
        )
    breached, in_time = sla_workflow_id("one_second", subject), sla_workflow_id("ten_days", subject)

    running = _query("running-slas")
    await _until(lambda: _both(client, running, breached, in_time))
    summary = await (await client.get_workflow_handle(in_time).describe()).static_summary()
    assert summary == f"SLA ten_days · timing {subject}"
    await _until(lambda: _has(client, _query("breached-slas"), breached))
    assert in_time not in await _ids(client, _query("breached-slas"))


async def _both(client: Client, query: str, *workflow_ids: str) -> bool:
    return set(workflow_ids) <= await _ids(client, query)
