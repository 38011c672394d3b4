"""A claim's answer comes from its update (decision 0100): the row as a read after it shows."""

import uuid
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from api.services.review import shown_assignment
from tests.api.review_flows import (
    ASSIGNER,
    SECTIONS,
    TWO_LEVELS,
    reviewer,
    row_of,
    self_assign,
    start_review,
    submitted_case,
)
from tests.support.tokens import bearer
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import workflow_id
from workflows.payloads.review import CaseSnapshot

ALICE = bearer("alice", "applicant")


async def _state(dev_env: WorkflowEnvironment, application_id: str) -> CaseSnapshot:
    handle = dev_env.client.get_workflow_handle_for(
        ApplicationReviewWorkflow.run, workflow_id(application_id)
    )
    return await handle.query(ApplicationReviewWorkflow.state)


async def _answered_as_listed(
    api: httpx.AsyncClient,
    dev_env: WorkflowEnvironment,
    application_id: str,
    reviewer_id: str,
    answer: httpx.Response,
) -> dict[str, Any]:
    """The answer is the listed row (read from PostgreSQL), and the workflow's snapshot
    carried it whole, so the route did not need to read it."""
    assert answer.status_code == 200, answer.text
    listed = await row_of(api, application_id, reviewer_id)
    assert answer.json() == listed
    carried = shown_assignment(await _state(dev_env, application_id), listed["id"])
    assert carried is not None
    assert carried.model_dump(mode="json") == listed
    return listed


async def test_each_claim_answers_the_row_as_a_read_shows_it(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    application_id = await submitted_case(
        api, ALICE, stages=TWO_LEVELS, reviewers=("rev-1", "rev-2")
    )
    first = await row_of(api, application_id, "rev-1")
    second = await row_of(api, application_id, "rev-2")

    mine = await _answered_as_listed(
        api,
        dev_env,
        application_id,
        "rev-1",
        await self_assign(api, first["id"], "rev-1", ["personal"]),
    )
    theirs = await _answered_as_listed(
        api, dev_env, application_id, "rev-2", await self_assign(api, second["id"], "rev-2")
    )

    assert (mine["assigned_sections"], mine["available_sections"]) == (["personal"], SECTIONS)
    assert (theirs["assigned_sections"], theirs["available_sections"]) == (
        ["qualifications"],
        ["qualifications"],
    )
    started = await start_review(api, first["id"], "rev-1")
    assert started.status_code == 201, started.text

    unassigned = await _answered_as_listed(
        api,
        dev_env,
        application_id,
        "rev-1",
        await api.post(f"/v1/assignments/{first['id']}/unassign", headers=ASSIGNER),
    )
    assigned = await _answered_as_listed(
        api,
        dev_env,
        application_id,
        "rev-1",
        await api.post(
            f"/v1/assignments/{first['id']}/assign",
            json={"sections": ["personal"]},
            headers=ASSIGNER,
        ),
    )

    assert (unassigned["status"], unassigned["review_status"]) == ("AVAILABLE", "DISCONTINUED")
    assert unassigned["available_sections"] == ["personal"]
    assert (assigned["assigner_id"], assigned["review_status"]) == ("asg-1", "DRAFT")
    assert assigned["review_id"] == started.json()["review_id"]


async def test_a_snapshot_without_the_whole_row_is_read_instead(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    application_id = await submitted_case(api, ALICE)
    row = await row_of(api, application_id, "rev-1")
    state = await _state(dev_env, application_id)  # record_submission's: no claim's fields

    assert shown_assignment(state, row["id"]) is None
    old = state.model_copy(
        update={
            "assignments": [
                a.model_copy(update={"available_sections": SECTIONS, "is_last_level": None})
                for a in state.assignments
            ]
        }
    )
    assert shown_assignment(old, row["id"]) is None
    taken = await self_assign(api, row["id"], "rev-1")
    assert taken.status_code == 200, taken.text
    assert taken.json() == await row_of(api, application_id, "rev-1")


async def test_unknown_rows_are_404_every_time(api: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    for _ in range(2):
        claimed = await api.post(
            f"/v1/assignments/{missing}/self-assign", headers=reviewer("rev-1")
        )
        submitted = await api.post(
            f"/v1/reviews/{missing}/submit", json={}, headers=reviewer("rev-1")
        )
        assert claimed.status_code == 404, claimed.text
        assert f"assignment {missing} does not exist" in claimed.text
        assert submitted.status_code == 404, submitted.text
        assert f"review {missing} does not exist" in submitted.text
