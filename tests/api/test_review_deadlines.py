"""Reviewer deadlines and ISO 8601 durations over HTTP, on the real dev server: a whole
cycle rehearsed in seconds (decision 0095), the bad inputs and the permission denials."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.flows import ADMIN, answer_all, draft, publish_template
from tests.api.review_flows import (
    ASSIGNER,
    JSON,
    add_reviewer,
    approve,
    decline,
    get_application,
    get_review,
    grant,
    history_actions,
    reviewer,
    row_of,
    self_assign,
    start_review,
    submit_review,
)
from tests.support.builders import make_template
from tests.support.tokens import bearer
from workflows.search_keys import keys

ALICE = bearer("alice", "applicant")
REHEARSAL: dict[str, Any] = {
    "loq_deadline": "PT6S",
    "loq_reminder_before": ["PT3S"],
    "stages": [
        {
            "code": "assessment",
            "name": "Assessment",
            "levels": 1,
            "review_due": "PT4S",
            "review_reminder_before": ["PT2S"],
            "auto_unassign_after": "PT5S",
        }
    ],
}


async def _until(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 40) -> Any:
    """Poll `check` until it answers something truthy (the timers run in real seconds)."""
    for _ in range(int(timeout_s / 0.25)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {timeout_s}s")


async def _events(api: httpx.AsyncClient, kind: str) -> list[JSON]:
    response = await api.get("/v1/events", params={"limit": 200}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["type"] == kind]


async def _actions(api: httpx.AsyncClient, headers: dict[str, str], kind: str) -> list[JSON]:
    response = await api.get("/v1/actions", headers=headers)
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"] if a["kind"] == kind]


async def _overdue_ids(api: httpx.AsyncClient, overdue: str = "true") -> set[str]:
    response = await api.get("/v1/applications", params={"overdue": overdue}, headers=ASSIGNER)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def _console(dev_env: WorkflowEnvironment, application_id: str) -> tuple[Any, Any]:
    """What the Temporal UI shows of the case: (`WaitingOn`, `DueAt`)."""
    handle = dev_env.client.get_workflow_handle(f"application-{application_id}")
    attributes = (await handle.describe()).typed_search_attributes
    return attributes.get(keys.WAITING_ON), attributes.get(keys.DUE_AT)


async def test_a_whole_cycle_in_seconds_reminder_overdue_unassign_reassign_loq_expiry(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    await add_reviewer(api, "rev-1", grant())
    await publish_template(api, **REHEARSAL)
    template = (await api.get("/v1/templates/qts", headers=ADMIN)).json()
    assert template["stages"][0]["review_due"] == "PT4S"
    assert template["loq_deadline"] == "PT6S"
    assert template["loq_deadline_days"] is None
    application_id = await draft(api, ALICE)
    await answer_all(api, ALICE, application_id)
    submitted = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)
    assert submitted.status_code == 200, submitted.text

    row = await row_of(api, application_id, "rev-1")
    assert (await self_assign(api, row["id"], "rev-1")).status_code == 200
    started = await start_review(api, row["id"], "rev-1")
    assert started.status_code == 201, started.text
    review_id = started.json()["review_id"]
    shown = await get_review(api, review_id)
    first_due = shown["due_at"]
    assert first_due is not None
    assert shown["overdue"] is False

    # Reminded (the reviewer's to-do), then overdue (the assigners' to-do, the filter).
    reminded = await _until(
        lambda: _actions(api, reviewer("rev-1"), "review_reminder"), "the reminder"
    )
    assert reminded[0]["detail"]["review_id"] == review_id
    assert reminded[0]["detail"]["reviewer_id"] == "rev-1"
    told = await _until(lambda: _actions(api, ASSIGNER, "review_overdue"), "the overdue mark")
    assert told[0]["subject_id"] == application_id
    assert application_id in await _overdue_ids(api)
    assert (await get_review(api, review_id))["overdue"] is True
    assert len(await _events(api, "review.overdue")) == 1
    waiting_on, due_at = await _console(dev_env, application_id)
    assert waiting_on == "reviewer"
    assert due_at == datetime.fromisoformat(first_due)

    # The grace runs out: the sections go back, the review is DISCONTINUED, assigners told.
    async def released() -> bool:
        return bool((await row_of(api, application_id, "rev-1"))["status"] == "AVAILABLE")

    await _until(released, "the auto-unassign")
    assert (await get_review(api, review_id))["status"] == "DISCONTINUED"
    assert await _actions(api, ASSIGNER, "review_auto_unassigned")
    assert await _actions(api, ASSIGNER, "review_overdue") == []  # done with its clock
    assert application_id not in await _overdue_ids(api)
    assert application_id in await _overdue_ids(api, "false")
    actions = await history_actions(api, application_id)
    assert {"review_reminder", "review_overdue", "review_auto_unassigned"} <= set(actions)

    # Reassigned: a fresh due date; the reviewer sends a list of questions in time.
    assigned = await api.post(
        f"/v1/assignments/{row['id']}/assign",
        json={"sections": ["personal", "qualifications"]},
        headers=ASSIGNER,
    )
    assert assigned.status_code == 200, assigned.text
    again = await get_review(api, review_id)
    assert again["status"] == "DRAFT"
    assert again["due_at"] is not None
    assert again["due_at"] > first_due
    await approve(api, review_id, ["birth_date", "degree", "email", "years"])
    await decline(api, review_id, "full_name", "id_mismatch", comment="Use your legal name")
    assert (await submit_review(api, review_id, "LIST_OF_QUESTIONS")).status_code == 200
    assert (await get_review(api, review_id))["due_at"] is None

    # Nobody answers: the LOQ reminds the applicant, then expires in seconds.
    async def expired() -> JSON | None:
        case = await get_application(api, application_id, ALICE)
        return case if case["status"] == "COMPLETED" else None

    assert (await _console(dev_env, application_id))[0] == "applicant"
    case = await _until(expired, "the LOQ expiry")
    assert case["outcome"] == "REJECTED"
    assert case["outcome_reason"] == "LOQ_EXPIRED"
    assert len(await _events(api, "application.loq_reminder")) == 1
    assert len(await _events(api, "review.overdue")) == 1  # the submitted clock never fired


@pytest.mark.parametrize(
    ("stage", "field"),
    [
        ({"review_due_days": 0}, "stages.0.review_due_days"),
        ({"review_due_days": 10_000}, "stages.0.review_due_days"),
        ({"review_due": "PT0S"}, "stages.0.review_due"),
        ({"review_due": "P3Y"}, "stages.0.review_due"),
        ({"review_due": "3 days"}, "stages.0.review_due"),
        ({"review_due": 90}, "stages.0.review_due"),
        ({"review_due_days": 3, "review_due": "P3D"}, "stages.0.review_due"),
        ({"review_reminder_days_before": [0]}, "stages.0.review_reminder_days_before.0"),
        (
            {"review_due": "P3D", "auto_unassign_after_days": 10_000},
            "stages.0.auto_unassign_after_days",
        ),
        ({"auto_unassign_after_days": 2}, "stages.0"),
    ],
)
async def test_bad_stage_deadlines_are_422_naming_the_field_and_write_nothing(
    api: httpx.AsyncClient, stage: JSON, field: str
) -> None:
    stages = [{"code": "assessment", "name": "Assessment", "levels": 1, **stage}]
    response = await api.post("/v1/templates", json=make_template(stages=stages), headers=ADMIN)

    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}
    assert (await api.get("/v1/templates/qts", headers=ADMIN)).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"loq_deadline_days": 42, "loq_deadline": "P42D"}, "loq_deadline"),
        ({"loq_followup_deadline": "PT0.5S"}, "loq_followup_deadline"),
        ({"loq_deadline": "P800D"}, "loq_deadline"),
        ({"loq_deadline": "-PT5S"}, "loq_deadline"),
    ],
)
async def test_bad_loq_durations_are_422_naming_the_field(
    api: httpx.AsyncClient, overrides: JSON, field: str
) -> None:
    response = await api.post("/v1/templates", json=make_template(**overrides), headers=ADMIN)

    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}


async def test_only_assigners_and_admins_filter_by_overdue(api: httpx.AsyncClient) -> None:
    for caller in (reviewer("rev-1"), bearer("qa-1", "qa")):
        refused = await api.get("/v1/applications", params={"overdue": "true"}, headers=caller)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    unfiltered = await api.get("/v1/applications", headers=reviewer("rev-1"))
    assert unfiltered.status_code == 200
    for caller in (ASSIGNER, ADMIN):
        allowed = await api.get("/v1/applications", params={"overdue": "true"}, headers=caller)
        assert allowed.status_code == 200, allowed.text
    bad = await api.get("/v1/applications", params={"overdue": "maybe"}, headers=ASSIGNER)
    assert bad.status_code == 422
