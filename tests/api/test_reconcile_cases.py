"""Reconcile on the dev server for outcomes, SLAs, inductions, bulk releases and check-list
syncs: found by one visibility listing per type, restarted with the same id, and the case
goes on; a workflow whose case closed behind it is told so."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, update
from sqlmodel import Session, col
from temporalio.testing import WorkflowEnvironment

from api.services import checklist_sync as syncs
from api.services import outcome_release as releases
from api.services.reconcile import Problem, repair, scan
from domain.access import Principal, Role
from domain.application import AssessmentStatus
from domain.checklist_sync import SyncStatus
from domain.outcome import OutcomeKind, ReleaseMode
from models.checklist_sync import ChecklistSync
from models.outcome import Outcome, OutcomeRef, ReleaseBatch
from tests.activities.test_checklist_sync_activities import V1, V2, publish, seed_assessment
from tests.api.outcome_flows import RELEASER, release_now, setup, submit_result
from tests.api.outcome_flows import sla_reaching as _sla
from tests.api.reconcile_flows import audited, audits, delete, repair_all, running_run, scan_until
from tests.api.test_induction import AB_1, SCHOOL, ab_claim, school_report
from worker import build_worker
from workflows.checklist_sync import ChecklistSyncWorkflow
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_start import batch_workflow_id
from workflows.payloads.checklist_sync import StartChecklistSyncInput

RELEASING = Principal(sub="releaser-1", roles=frozenset({Role.RELEASER}))


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the condition never held")


async def test_a_terminated_result_and_its_sla_are_restarted_and_the_release_stops_the_sla(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id)
    definition = "result_complete_to_release"
    await _sla(api, definition, result["id"], "RUNNING")
    sla_id = f"sla-{definition}-{result['id']}"
    await client.get_workflow_handle(f"result-{result['id']}").terminate(reason="an operator")
    await delete(client, sla_id)  # a history-less start

    found = await scan_until(db, client, task_queue, 2)
    await repair_all(db, client, task_queue, 2)
    released = await release_now(api, "result", result["id"])

    assert {(f.label, f.db_state, f.workflow_state) for f in found} == {
        ("result", "PENDING_RELEASE", "TERMINATED"),
        ("sla", "RUNNING", "NOT_FOUND"),
    }
    assert released.status_code == 200, released.text
    met = await _sla(api, definition, result["id"], "MET")  # the resumed outcome stopped it
    assert met["stopped_at"] is not None
    resumed = {
        (a.subject_kind, a.actor, a.detail["found"])
        for a in audits(db, result["id"], "workflow_resumed")
    }
    assert resumed == {("result", "reconcile", "TERMINATED"), ("sla", "reconcile", "NOT_FOUND")}
    assert await scan(db, client, task_queue=task_queue) == []


async def test_an_outcome_released_behind_its_workflow_is_signalled_and_finishes(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id)
    run_id = await running_run(client, f"result-{result['id']}")
    with Session(db) as session, session.begin():  # a batch released it; its signal was lost
        session.execute(
            update(Outcome)
            .where(col(Outcome.id) == result["id"])
            .values(
                status="RELEASED",
                released_at=datetime.now(UTC),
                release_method="MANUAL",
                revision=col(Outcome.revision) + 1,
            )
        )

    [found] = await scan_until(db, client, task_queue, 1)
    [ended] = await repair(db, client, [found], task_queue=task_queue)

    assert (found.problem, found.label, found.run_id) == (Problem.CASE_CLOSED, "result", run_id)
    assert (ended.action, ended.repaired) == ("signalled", True)
    handle = client.get_workflow_handle_for(OutcomeReleaseWorkflow.run, f"result-{result['id']}")
    assert (await handle.result()).status == "RELEASED"
    await _sla(api, "result_complete_to_release", result["id"], "MET")
    audit = await audited(db, result["id"], "workflow_ended")
    assert (audit.actor, audit.detail["done"]) == ("reconcile", "signal released")


async def test_a_terminated_induction_is_restarted_and_takes_a_claim(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    trn = f"{uuid.uuid4().int % 10_000_000:07d}"
    base = f"/v1/inductions/{trn}"
    reported = await api.post(f"{base}/school-reports", json=school_report(), headers=SCHOOL)
    assert reported.status_code == 201, reported.text
    await client.get_workflow_handle(f"induction-{trn}").terminate(reason="an operator")

    [found] = await scan_until(db, client, task_queue, 1)
    await repair_all(db, client, task_queue, 1)
    claimed = await api.post(f"{base}/ab-claims", json=ab_claim("ab-1"), headers=AB_1)

    assert (found.label, found.business_id, found.workflow_state) == (
        "induction",
        trn,
        "TERMINATED",
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["claimed_by"] == "ab-1"


async def test_a_terminated_scheduled_batch_is_restarted_and_releases(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    records = await setup(api, auto_release=False)
    results = [await submit_result(api, records.element_id) for _ in range(2)]
    release_at = datetime.now(UTC) + timedelta(seconds=2)
    batch_id = await releases.start_batch(
        db,
        client,
        RELEASING,
        [OutcomeRef(kind=OutcomeKind.RESULT, id=r["id"]) for r in results],
        mode=ReleaseMode.SCHEDULED,
        release_at=release_at,
        task_queue=task_queue,
        at=datetime.now(UTC),
    )
    await _until(lambda: _batch_status(db, batch_id) == "SCHEDULED")
    await client.get_workflow_handle(batch_workflow_id(batch_id)).terminate(reason="an operator")

    [found] = await scan_until(db, client, task_queue, 1)
    await repair_all(db, client, task_queue, 1)
    await client.get_workflow_handle(batch_workflow_id(batch_id)).result()

    assert (found.label, found.db_state) == ("release_batch", "SCHEDULED")
    assert _batch_status(db, batch_id) == "COMPLETED"
    for result in results:
        shown = await api.get(f"/v1/results/{result['id']}", headers=RELEASER)
        assert shown.json()["status"] == "RELEASED"
        await _sla(api, "result_complete_to_release", result["id"], "MET")


def _batch_status(db: Engine, batch_id: str) -> str | None:
    with Session(db) as session:
        batch = session.get(ReleaseBatch, batch_id)
        return batch.status if batch else None


def _sync(db: Engine, sync_id: str) -> ChecklistSync | None:
    with Session(db) as session:
        return session.get(ChecklistSync, sync_id)


async def _settled(db: Engine, sync_id: str) -> ChecklistSync:
    """The sync's row once its page count has held still for a second."""
    seen = _sync(db, sync_id)
    for _ in range(30):
        await asyncio.sleep(1)
        now = _sync(db, sync_id)
        if now is not None and seen is not None and now.pages == seen.pages:
            return now
        seen = now
    raise AssertionError(f"the sync's pages never settled: {seen}")


async def test_a_sync_terminated_half_way_is_restarted_and_goes_on_from_its_cursor(
    dev_env: WorkflowEnvironment, db: Engine, task_queue: str
) -> None:
    client = dev_env.client
    publish(db, 1, V1)
    publish(db, 2, V2)
    assessments = [seed_assessment(db, AssessmentStatus.NOT_STARTED) for _ in range(40)]
    sync_id = uuid.uuid4().hex
    start = StartChecklistSyncInput(sync_id=sync_id, page_size=1)
    async with build_worker(client, db, task_queue=task_queue, threads=4):
        handle = await syncs.start(client, start, task_queue=task_queue)
        await _until(lambda: getattr(_sync(db, sync_id), "pages", 0) >= 2)
        await handle.terminate(reason="an operator")
        half_way = await _settled(db, sync_id)  # a page under way at the terminate still commits
        assert 2 <= half_way.pages < len(assessments)
        found = [
            f for f in await scan_until(db, client, task_queue, 41) if f.label == "checklist_sync"
        ]  # and the 40 seeded applications, which never had a workflow
        [repaired] = await repair(db, client, found, task_queue=task_queue)
        result = await client.get_workflow_handle_for(
            ChecklistSyncWorkflow.run, syncs.workflow_id(sync_id)
        ).result()

    assert (found[0].db_state, found[0].workflow_state) == ("RUNNING", "TERMINATED")
    assert repaired.repaired, repaired.action
    assert result.status == SyncStatus.COMPLETED
    assert (result.found, result.synced, result.failed) == (40, 40, 0)
    # The pages done stay done; the rest goes in one page of the default size (not stored).
    assert result.pages == half_way.pages + 1
