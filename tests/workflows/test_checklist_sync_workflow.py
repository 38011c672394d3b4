"""ChecklistSyncWorkflow on real Temporal servers, with real activities and PostgreSQL."""

import asyncio
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from api.services import checklist_sync as syncs
from domain.application import AssessmentStatus
from domain.checklist_sync import SyncStatus
from models.checklist_sync import ChecklistSync
from tests.activities.test_checklist_sync_activities import (
    V1,
    V2,
    publish,
    sections_of,
    seed_assessment,
)
from worker import build_worker
from workflows.checklist_sync import ChecklistSyncWorkflow
from workflows.payloads.checklist_sync import ChecklistSyncProgress, StartChecklistSyncInput


def _counts(p: ChecklistSyncProgress) -> tuple[int, int, int, int, int]:
    return (p.found, p.synced, p.unchanged, p.skipped, p.failed)


async def _sync(client: Client, task_queue: str, **options: object) -> ChecklistSyncProgress:
    start = StartChecklistSyncInput.model_validate({"sync_id": uuid.uuid4().hex, **options})
    handle = await syncs.start(client, start, task_queue=task_queue)
    return await handle.result()


def _pages(engine: Engine, sync_id: str) -> int:
    with Session(engine) as session:
        row = session.get(ChecklistSync, sync_id)
        return row.pages if row else 0


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) until `condition` holds; a state change, never a duration, is awaited."""
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def test_a_sync_pages_through_continues_as_new_and_a_second_run_changes_nothing(
    ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    eligible = [seed_assessment(db, AssessmentStatus.NOT_STARTED) for _ in range(5)]
    eligible += [seed_assessment(db, AssessmentStatus.PRE_ASSESSMENT) for _ in range(2)]
    started = seed_assessment(db, AssessmentStatus.IN_PROGRESS)

    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        first = await _sync(ts_env.client, task_queue, page_size=2, pages_per_run=2)
        second = await _sync(ts_env.client, task_queue, page_size=3)

    assert (first.status, _counts(first), first.total) == (
        SyncStatus.COMPLETED,
        (7, 7, 0, 0, 0),
        7,
    )
    assert first.pages == 4  # 2 + 2 + 2 + 1, across continue-as-new runs
    assert _counts(second) == (7, 0, 7, 0, 0)
    assert all("references" in sections_of(db, a) for a in eligible)
    assert "references" not in sections_of(db, started)


async def test_the_progress_query_and_the_row_agree_with_the_result(
    ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    for _ in range(3):
        seed_assessment(db, AssessmentStatus.NOT_STARTED)
    start = StartChecklistSyncInput(sync_id="q1", dry_run=True, page_size=2)

    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        handle = await syncs.start(ts_env.client, start, task_queue=task_queue)
        result = await handle.result()
        queried = await handle.query(ChecklistSyncWorkflow.progress)

    assert queried == result
    assert (result.dry_run, _counts(result)) == (True, (3, 3, 0, 0, 0))
    with Session(db) as session:
        row = session.get(ChecklistSync, "q1")
    assert row is not None
    assert (row.status, row.synced, row.finished_at is not None) == ("COMPLETED", 3, True)


async def test_an_unknown_template_fails_the_sync_and_says_why(
    ts_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    start = StartChecklistSyncInput(sync_id="bad", template_code="nope")

    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        handle = await syncs.start(ts_env.client, start, task_queue=task_queue)
        with pytest.raises(WorkflowFailureError):
            await handle.result()

    with Session(db) as session:
        row = session.get(ChecklistSync, "bad")
    assert row is not None
    assert row.status == "FAILED"
    assert "no published template" in (row.error or "")


async def test_a_worker_stopped_mid_sync_is_replaced_and_the_counts_are_right(
    dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    for _ in range(6):
        seed_assessment(db, AssessmentStatus.NOT_STARTED)
    start = StartChecklistSyncInput(sync_id=f"w1-{task_queue}", page_size=1)
    handle = await syncs.start(dev_env.client, start, task_queue=task_queue)

    async with build_worker(dev_env.client, db, task_queue=task_queue, threads=2):
        await _until(lambda: _pages(db, f"w1-{task_queue}") >= 2)
    async with build_worker(dev_env.client, db, task_queue=task_queue, threads=2):
        result = await handle.result()

    assert _counts(result) == (6, 6, 0, 0, 0)


async def test_operators_find_syncs_by_search_attributes_and_a_schedule_starts_them(
    dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    publish(db, 1, V1)
    publish(db, 2, V2)
    seed_assessment(db, AssessmentStatus.NOT_STARTED)
    schedule_id = f"checklist-sync-test-{uuid.uuid4().hex[:6]}"

    async with build_worker(dev_env.client, db, task_queue=task_queue, threads=4):
        handle = await syncs.schedule(
            dev_env.client,
            cron="0 2 * * *",
            task_queue=task_queue,
            template_code="qts",
            dry_run=True,
            schedule_id=schedule_id,
        )
        described = await handle.describe()
        next_fire = described.info.next_action_times[0]
        assert (next_fire.hour, next_fire.minute) == (2, 0)
        await handle.trigger()
        query = "CaseKind = 'checklist_sync' AND TemplateCode = 'qts' AND CaseStatus = 'DRY_RUN'"
        found = []
        for _ in range(100):
            listed = [w async for w in dev_env.client.list_workflows(query)]
            # The dev server is shared by the session: keep only this schedule's runs.
            found = [w for w in listed if w.id.startswith(f"checklist-sync-{schedule_id}")]
            if found and all(w.status and w.status.name == "COMPLETED" for w in found):
                break
            await asyncio.sleep(0.1)
        await handle.delete()

    assert len(found) == 1
    assert found[0].id.startswith(f"checklist-sync-{schedule_id}")
    result = await dev_env.client.get_workflow_handle(
        found[0].id, result_type=ChecklistSyncProgress
    ).result()
    assert (result.dry_run, result.synced, result.template_code) == (True, 1, "qts")
