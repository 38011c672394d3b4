"""Bulk release: more than 100 outcomes run as a batch workflow; the pending list; actions."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from models.action import Action
from models.event import OutboxEvent
from models.outcome import Outcome
from tests.api.outcome_flows import (
    ADMIN,
    ASSESSOR,
    RELEASER,
    element_for,
    setup,
    submit_result,
)
from tests.support.outcome_seed import seed_pending_results
from tests.support.temporal_gone import app_whose_temporal_is_gone


async def _wait_batch(api: httpx.AsyncClient, batch_id: str) -> dict[str, object]:
    for _ in range(300):
        progress = (
            await api.get(f"/v1/outcome-releases/batches/{batch_id}", headers=RELEASER)
        ).json()
        if progress["status"] == "COMPLETED":
            return dict(progress)
        await asyncio.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not complete: {progress}")


async def test_more_than_100_outcomes_run_as_a_batch(
    api: httpx.AsyncClient, db: Engine, dev_env: WorkflowEnvironment
) -> None:
    records = await setup(api, auto_release=False)
    live = await submit_result(api, records.element_id)  # has a workflow, which must finish
    released = await submit_result(api, records.element_id, "VOID")
    seeded = seed_pending_results(db, records.candidate_id, records.element_id, 110)
    refs = [{"kind": "result", "id": i} for i in [live["id"], released["id"], *seeded]]

    response = await api.post(
        "/v1/outcome-releases", json={"outcomes": refs, "mode": "now"}, headers=RELEASER
    )
    assert response.status_code == 202, response.text
    progress = await _wait_batch(api, response.json()["batch_id"])

    assert progress["total"] == 112
    assert progress["released"] == 111
    assert progress["skipped_reasons"] == {"voided": 1}
    with Session(db) as session:
        methods = session.exec(
            select(Outcome.release_method, func.count()).group_by(col(Outcome.release_method))
        ).all()
        events = session.exec(
            select(func.count()).where(OutboxEvent.type == "result.released")
        ).one()
    assert dict(methods) == {"MANUAL": 111, "VOID": 1}
    assert events == 112
    live_view = (await api.get(f"/v1/results/{live['id']}", headers=RELEASER)).json()
    assert live_view["release_method"] == "MANUAL"
    handle = dev_env.client.get_workflow_handle(f"result-{live['id']}")
    for _ in range(100):  # the batch signalled it; it finishes on its next task
        if (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.05)
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    assert (await api.get("/v1/actions", headers=RELEASER)).json()["items"] == []


async def test_a_scheduled_batch_rechecks_each_outcome_when_it_fires(
    api: httpx.AsyncClient, db: Engine
) -> None:
    records = await setup(api, auto_release=False)
    live = await submit_result(api, records.element_id)
    seeded = seed_pending_results(db, records.candidate_id, records.element_id, 101)
    release_at = datetime.now(UTC) + timedelta(seconds=6)
    refs = [{"kind": "result", "id": i} for i in [live["id"], *seeded]]
    response = await api.post(
        "/v1/outcome-releases",
        json={"outcomes": refs, "mode": "scheduled", "release_at": release_at.isoformat()},
        headers=RELEASER,
    )
    assert response.status_code == 202, response.text
    # Before it fires, one outcome is released by hand: the batch must not release it again.
    for _ in range(100):
        view = (await api.get(f"/v1/results/{live['id']}", headers=RELEASER)).json()
        if view["scheduled_release_at"]:
            break
        await asyncio.sleep(0.05)
    now = await api.patch(
        f"/v1/outcome-releases/result/{live['id']}", json={"mode": "now"}, headers=RELEASER
    )
    assert now.json()["release_method"] == "MANUAL"

    progress = await _wait_batch(api, response.json()["batch_id"])

    assert progress["released"] == 101
    assert progress["skipped_reasons"] == {"already released": 1}
    with Session(db) as session:
        scheduled = session.exec(
            select(func.count()).where(Outcome.release_method == "SCHEDULED")
        ).one()
    assert scheduled == 101


async def test_pending_list_shows_active_candidates_and_filters(api: httpx.AsyncClient) -> None:
    first = await setup(api, auto_release=False)
    second = await setup(api, auto_release=False)
    written = await element_for(api, first.candidate_id, "written")
    practical = await submit_result(api, first.element_id)
    essay = await submit_result(api, written)
    other = await submit_result(api, second.element_id)

    async def ids(query: str = "") -> set[str]:
        response = await api.get(f"/v1/outcome-releases/pending{query}", headers=RELEASER)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await ids() == {practical["id"], essay["id"], other["id"]}
    assert await ids("?component=written") == {essay["id"]}
    assert await ids(f"?provider_id={second.provider_id}") == {other["id"]}
    assert await ids(f"?candidate_id={first.candidate_id}&kind=result") == {
        practical["id"],
        essay["id"],
    }
    assert await ids("?kind=certification") == set()
    assert await ids("?q=ada&uln=1234567890&standard=ST0001&cohort=2026") == await ids()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert await ids(f"?from={future}") == set()

    patched = await api.patch(
        f"/v1/candidates/{second.candidate_id}",
        json={"status": "BACK_INTO_LEARNING"},
        headers=ASSESSOR,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["active"] is False
    assert await ids() == {practical["id"], essay["id"]}


async def test_actions_pause_while_the_candidate_is_inactive(
    api: httpx.AsyncClient, db: Engine
) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id)
    path = f"/v1/candidates/{records.candidate_id}"

    await api.patch(path, json={"status": "WITHDRAWN"}, headers=ADMIN)
    assert (await api.get("/v1/actions", headers=RELEASER)).json()["items"] == []
    await api.patch(path, json={"status": "COMPLETED"}, headers=ADMIN)
    todo = (await api.get("/v1/actions", headers=RELEASER)).json()["items"]
    assert [a["subject_id"] for a in todo] == [result["id"]]

    await api.patch(path, json={"status": "RETAKE_REVIEW"}, headers=ADMIN)
    late = await submit_result(api, records.element_id)  # pending while inactive: paused
    with Session(db) as session:
        statuses = dict(session.exec(select(Action.subject_id, Action.status)).all())
    assert statuses == {result["id"]: "PAUSED", late["id"]: "PAUSED"}

    gateway = await api.patch(
        path, json={"gateway_approved_at": "2026-02-01T00:00:00Z"}, headers=ADMIN
    )
    assert gateway.json()["gateway_approved_at"].startswith("2026-02-01")
    bad = await api.patch(path, json={"status": "SLEEPING"}, headers=ADMIN)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "status"


async def test_a_batch_whose_workflow_did_not_start_is_started_by_the_keyed_retry(
    api: httpx.AsyncClient, db: Engine, task_queue: str
) -> None:
    records = await setup(api, auto_release=False)
    seeded = seed_pending_results(db, records.candidate_id, records.element_id, 101)
    body = {"outcomes": [{"kind": "result", "id": i} for i in seeded], "mode": "now"}
    keyed = {**RELEASER, "Idempotency-Key": "batch-while-temporal-was-down"}
    async with app_whose_temporal_is_gone(db, task_queue) as down:
        first = await down.post("/v1/outcome-releases", json=body, headers=keyed)
    assert first.status_code == 503, first.text  # the batch was recorded, its workflow not started

    retry = await api.post("/v1/outcome-releases", json=body, headers=keyed)

    assert retry.status_code == 202, retry.text  # not 409 "answer lost" with the batch stuck
    progress = await _wait_batch(api, retry.json()["batch_id"])
    assert (progress["total"], progress["released"]) == (101, 101)


async def test_a_retry_of_a_scheduled_batch_after_its_instant_gets_that_batch(
    api: httpx.AsyncClient, db: Engine
) -> None:
    records = await setup(api, auto_release=False)
    seeded = seed_pending_results(db, records.candidate_id, records.element_id, 101)
    release_at = datetime.now(UTC) + timedelta(seconds=1)
    body = {
        "outcomes": [{"kind": "result", "id": i} for i in seeded],
        "mode": "scheduled",
        "release_at": release_at.isoformat(),
    }
    keyed = {**RELEASER, "Idempotency-Key": "batch-answer-lost"}
    first = await api.post("/v1/outcome-releases", json=body, headers=keyed)
    assert first.status_code == 202, first.text
    with db.begin() as connection:  # recorded and started; the answer never reached the table
        connection.execute(text("DELETE FROM idempotent_requests"))
    await asyncio.sleep(max(0.0, (release_at - datetime.now(UTC)).total_seconds()) + 0.2)

    retry = await api.post("/v1/outcome-releases", json=body, headers=keyed)

    assert retry.status_code == 202, retry.text  # that batch, not "release_at is in the past"
    assert retry.json() == first.json()
    progress = await _wait_batch(api, retry.json()["batch_id"])
    assert (progress["total"], progress["released"]) == (101, 101)
