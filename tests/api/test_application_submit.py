"""Applications end to end: draft, answers, submit through the workflow, reads."""

import asyncio

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from core import temporal as keys
from models.assessment import Assessment
from models.event import AuditEntry, OutboxEvent
from tests.api.flows import REVIEWER, ready_draft
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")


async def test_submit_creates_workflow_assessment_audit_and_event(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine
) -> None:
    application_id = await ready_draft(api, ALICE)

    response = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    assert response.status_code == 200, response.text
    assert response.json() == {"id": application_id, "status": "SUBMITTED", "stage": "assessment"}
    shown = (await api.get(f"/v1/applications/{application_id}", headers=ALICE)).json()
    assert shown["status"] == "SUBMITTED"
    assert shown["stage"] == "assessment"
    assert {r["element_code"] for r in shown["responses"]} == {
        "full_name",
        "birth_date",
        "email",
        "degree",
        "years",
    }
    assert shown["questions"] == []
    url = f"/v1/applications/{application_id}/history"
    history = (await api.get(url, headers=REVIEWER)).json()["items"]
    assert [entry["action"] for entry in history] == ["created", "submitted", "level_reached"]
    assert history[1]["actor"] == "alice"
    own = (await api.get(url, headers=ALICE)).json()["items"]
    assert [entry["action"] for entry in own] == ["created", "submitted"]
    assessment = (
        await api.get(f"/v1/applications/{application_id}/assessment", headers=REVIEWER)
    ).json()
    assert assessment["status"] == "NOT_STARTED"
    personal = assessment["sections"][0]
    assert personal["code"] == "personal"
    assert personal["checks"] == ["Name matches the ID document"]
    assert [r["code"] for r in personal["failure_reasons"]] == ["id_mismatch", "fraud"]
    assert personal["preliminary"] is False
    with Session(db) as session:
        events = session.exec(select(OutboxEvent.type)).all()
    assert events == ["application.submitted"]

    handle = dev_env.client.get_workflow_handle(f"application-{application_id}")
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    attributes = described.typed_search_attributes
    assert attributes.get(keys.CASE_KIND) == "application"
    assert attributes.get(keys.CASE_STATUS) == ["SUBMITTED", "NOT_STARTED"]
    assert attributes.get(keys.REVIEW_LEVEL) == 1
    assert attributes.get(keys.TEMPLATE_CODE) == "qts"
    assert attributes.get(keys.STAGE) == "assessment"
    assert application_id in (await described.static_summary() or "")


async def test_workflow_is_found_by_case_kind_in_visibility(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    application_id = await ready_draft(api, ALICE)
    await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)
    query = f"CaseKind='application' AND WorkflowId='application-{application_id}'"

    found: list[str] = []
    for _ in range(50):  # visibility is eventually consistent
        found = [wf.id async for wf in dev_env.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)

    assert found == [f"application-{application_id}"]


async def test_double_click_yields_one_workflow_and_one_submission(
    api: httpx.AsyncClient, db: Engine
) -> None:
    application_id = await ready_draft(api, ALICE)
    url = f"/v1/applications/{application_id}/submit"

    first, second = await asyncio.gather(api.post(url, headers=ALICE), api.post(url, headers=ALICE))

    assert {first.status_code, second.status_code} <= {200, 409}
    assert 200 in {first.status_code, second.status_code}
    _assert_submitted_once(db, application_id)


async def test_retry_with_same_idempotency_key_returns_first_answer(
    api: httpx.AsyncClient, db: Engine
) -> None:
    application_id = await ready_draft(api, ALICE)
    url = f"/v1/applications/{application_id}/submit"
    headers = {**ALICE, "Idempotency-Key": "submit-once"}

    first = await api.post(url, headers=headers)
    retry = await api.post(url, headers=headers)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    _assert_submitted_once(db, application_id)


async def test_reusing_an_idempotency_key_for_another_body_is_refused(
    api: httpx.AsyncClient,
) -> None:
    await ready_draft(api, ALICE)
    headers = {**ALICE, "Idempotency-Key": "k-1"}
    await api.post("/v1/applications", json={"template_code": "qts"}, headers=headers)

    clash = await api.post("/v1/applications", json={"template_code": "other"}, headers=headers)

    assert clash.status_code == 422
    assert "different request" in clash.json()["detail"]


async def test_resubmitting_a_submitted_application_is_409_naming_what_is_allowed(
    api: httpx.AsyncClient,
) -> None:
    application_id = await ready_draft(api, ALICE)
    await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    again = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["allowed"] == ["withdraw"]
    assert "SUBMITTED" in again.json()["detail"]


async def test_incomplete_application_is_422_naming_each_missing_answer_and_changes_nothing(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, db: Engine
) -> None:
    from tests.api.flows import draft, publish_template

    await publish_template(api)
    application_id = await draft(api, ALICE)
    await api.put(
        f"/v1/applications/{application_id}/responses/full_name",
        json={"value": "Ada"},
        headers=ALICE,
    )

    response = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"responses.birth_date", "responses.degree", "responses.years"}
    shown = (await api.get(f"/v1/applications/{application_id}", headers=ALICE)).json()
    assert shown["status"] == "DRAFT"
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Assessment)).one() == 0
    with pytest.raises(RPCError) as missing:
        await dev_env.client.get_workflow_handle(f"application-{application_id}").describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


def _assert_submitted_once(db: Engine, application_id: str) -> None:
    with Session(db) as session:
        submitted = session.exec(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.subject_id == application_id, AuditEntry.action == "submitted")
        ).one()
        assessments = session.exec(
            select(func.count())
            .select_from(Assessment)
            .where(Assessment.application_id == application_id)
        ).one()
        events = session.exec(select(func.count()).select_from(OutboxEvent)).one()
    assert (submitted, assessments, events) == (1, 1, 1)
