"""Every path that changes a candidate's status pauses and resumes the same work: the
candidate's running SLAs and its release to-dos (PATCH and a retake alike)."""

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from api.services.candidate_status import change_status
from api.services.reconcile import Problem, repair, scan
from domain.outcome import CandidateStatus
from models.candidate import Candidate
from models.sla import slas_out_of_step
from tests.api.outcome_flows import (
    ADMIN,
    ASSESSOR,
    RELEASER,
    element_for,
    release_now,
    setup,
    sla_reaching,
    submit_result,
)

EPA = "candidate_time_in_epa"
ELEMENT = "element_scheduled_to_outcome_release"
RESULT = "result_complete_to_release"


async def _open_todos(api: httpx.AsyncClient) -> list[str]:
    answer = await api.get("/v1/actions", headers=RELEASER)
    assert answer.status_code == 200, answer.text
    return [item["subject_id"] for item in answer.json()["items"]]


async def _set_status(api: httpx.AsyncClient, candidate_id: str, status: str) -> Any:
    answer = await api.patch(
        f"/v1/candidates/{candidate_id}", json={"status": status}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_retake_pauses_the_candidates_slas_and_to_dos_and_a_return_resumes_them(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    approved = await api.patch(
        f"/v1/candidates/{records.candidate_id}",
        json={"gateway_approved_at": "2026-02-01T09:00:00Z"},
        headers=ADMIN,
    )
    assert approved.status_code == 200, approved.text
    failed = await submit_result(api, records.element_id, "FAIL")
    assert (await release_now(api, "result", failed["id"])).status_code == 200
    other = await element_for(api, records.candidate_id, "knowledge")
    waiting = await submit_result(api, other, "PASS")
    running = [(EPA, records.candidate_id), (ELEMENT, other), (RESULT, waiting["id"])]
    for definition, subject in running:
        await sla_reaching(api, definition, subject, "RUNNING")
    assert await _open_todos(api) == [waiting["id"]]

    booked = await api.post("/v1/retakes", json={"result_id": failed["id"]}, headers=ASSESSOR)
    assert booked.status_code == 201, booked.text

    candidate = await api.get(f"/v1/candidates/{records.candidate_id}", headers=ADMIN)
    assert candidate.json()["status"] == "RETAKE_REVIEW"
    for definition, subject in running:
        paused = await sla_reaching(api, definition, subject, "PAUSED")
        assert paused["stopped_at"] is None
    assert await _open_todos(api) == []

    await _set_status(api, records.candidate_id, "IN_ASSESSMENT")
    for definition, subject in running:
        resumed = await sla_reaching(api, definition, subject, "RUNNING")
        assert resumed["paused_s"] > 0
    assert await _open_todos(api) == [waiting["id"]]


async def test_a_status_change_within_the_active_ones_leaves_the_slas_running(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    waiting = await submit_result(api, records.element_id, "PASS")
    await sla_reaching(api, RESULT, waiting["id"], "RUNNING")

    shown = await _set_status(api, records.candidate_id, "COMPLETED")
    await _set_status(api, records.candidate_id, "COMPLETED")  # no change at all

    assert shown["active"] is True
    still = await sla_reaching(api, RESULT, waiting["id"], "RUNNING")
    assert still["paused_s"] == 0
    assert await _open_todos(api) == [waiting["id"]]


def _out_of_step(db: Engine) -> list[str]:
    with Session(db) as session:
        return slas_out_of_step(session)


async def test_slas_left_running_by_a_crash_after_the_commit_are_reconciled(
    api: httpx.AsyncClient, db: Engine, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    records = await setup(api, auto_release=False)
    waiting = await submit_result(api, records.element_id, "PASS")
    await sla_reaching(api, RESULT, waiting["id"], "RUNNING")
    await sla_reaching(api, ELEMENT, records.element_id, "RUNNING")
    assert _out_of_step(db) == []

    with Session(db) as session, session.begin():  # committed; then the process died
        candidate = session.get(Candidate, records.candidate_id, with_for_update=True)
        assert candidate is not None
        change_status(
            session, candidate, CandidateStatus.WITHDRAWN, actor="admin-1", at=datetime.now(UTC)
        )
    behind = sorted(_out_of_step(db))
    assert len(behind) == 2

    findings = await scan(db, dev_env.client, task_queue=task_queue)
    assert sorted((f.problem, f.workflow_id) for f in findings) == [
        (Problem.OUT_OF_STEP, workflow_id) for workflow_id in behind
    ]
    repaired = await repair(db, dev_env.client, findings, task_queue=task_queue)

    assert [(f.repaired, f.action) for f in repaired] == [(True, "signalled candidate_changed")] * 2
    await sla_reaching(api, RESULT, waiting["id"], "PAUSED")
    await sla_reaching(api, ELEMENT, records.element_id, "PAUSED")
    assert _out_of_step(db) == []
    assert await _open_todos(api) == []  # the to-dos paused with the commit itself
