"""Check-list syncs over HTTP: start, follow, permissions, problems, and the race with a review."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.api.flows import ADMIN, answer_all, draft, publish_template
from tests.api.review_flows import (
    SINGLE_STAGE,
    add_reviewer,
    get_assessment,
    grant,
    row_of,
    self_assign,
    start_review,
)
from tests.support.builders import make_template
from tests.support.tokens import bearer

JSON = dict[str, Any]
ALICE = bearer("alice", "applicant")
ASSESSOR = bearer("ass-1", "assessor")
NEW_CHECKS = ["Name matches the ID document", "Address matches a utility bill"]


async def _submitted(api: httpx.AsyncClient) -> str:
    application_id = await draft(api, ALICE)
    await answer_all(api, ALICE, application_id)
    response = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)
    assert response.status_code == 200, response.text
    return application_id


async def _cases(api: httpx.AsyncClient, n: int) -> list[str]:
    """`n` submitted applications on v1, then v2 published with a new personal check."""
    await add_reviewer(api, "rev-1", grant())
    await publish_template(api, stages=SINGLE_STAGE)
    cases = [await _submitted(api) for _ in range(n)]
    sections = make_template()["sections"]
    sections[0] = {**sections[0], "checks": NEW_CHECKS}
    await publish_template(api, stages=SINGLE_STAGE, sections=sections)
    return cases


async def _start(api: httpx.AsyncClient, body: JSON | None = None) -> str:
    response = await api.post("/v1/checklist-syncs", json=body or {}, headers=ADMIN)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def _finished(api: httpx.AsyncClient, sync_id: str) -> JSON:
    for _ in range(600):
        response = await api.get(f"/v1/checklist-syncs/{sync_id}", headers=ASSESSOR)
        assert response.status_code == 200, response.text
        if response.json()["status"] != "RUNNING":
            body: JSON = response.json()
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the sync never finished")


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


def _counts(body: JSON) -> tuple[int, int, int, int, int]:
    return (body["found"], body["synced"], body["unchanged"], body["skipped"], body["failed"])


def _personal_checks(assessment: JSON) -> list[str]:
    return next(s["checks"] for s in assessment["sections"] if s["code"] == "personal")


async def test_a_dry_run_reports_changes_then_a_sync_applies_them_once(
    api: httpx.AsyncClient,
) -> None:
    (case,) = await _cases(api, 1)

    dry = await _finished(api, await _start(api, {"dry_run": True, "template_code": "qts"}))
    assert (await get_assessment(api, case))["sections"][0]["checks"] == [
        "Name matches the ID document"
    ]
    real = await _finished(api, await _start(api))
    again = await _finished(api, await _start(api))

    assert (dry["status"], dry["dry_run"], _counts(dry)) == ("COMPLETED", True, (1, 1, 0, 0, 0))
    assert dry["changes"] == [
        {
            "application_id": case,
            "section": "personal",
            "kind": "replaced",
            "before": {
                "checks": ["Name matches the ID document"],
                "failure_reasons": dry["changes"][0]["before"]["failure_reasons"],
            },
            "after": {
                "checks": NEW_CHECKS,
                "failure_reasons": dry["changes"][0]["before"]["failure_reasons"],
            },
        }
    ]
    assert (_counts(real), _counts(again)) == ((1, 1, 0, 0, 0), (1, 0, 1, 0, 0))
    assert _personal_checks(await get_assessment(api, case)) == NEW_CHECKS
    history = await api.get(f"/v1/applications/{case}/history", headers=ASSESSOR)
    assert [e["action"] for e in history.json()["items"]].count("checklist_synced") == 1


async def test_a_review_that_starts_while_the_sync_runs_is_left_untouched(
    api: httpx.AsyncClient, db: Engine
) -> None:
    cases = await _cases(api, 2)
    blocker, raced = sorted(cases)  # the sync locks in assessment-id order
    row = await row_of(api, raced, "rev-1")
    assert (await self_assign(api, row["id"], "rev-1")).status_code == 200

    # Hold the first assessment's row so the sync stops after finding both, before writing.
    held = db.connect()
    transaction = held.begin()
    held.execute(
        text("SELECT 1 FROM assessments WHERE id = :id FOR UPDATE"), {"id": f"asm-{blocker}"}
    )
    try:
        sync_id = await _start(api)
        await _until(lambda: _lock_waits(db) > 0)
        started = await start_review(api, row["id"], "rev-1")  # the real path: IN_PROGRESS
        assert started.status_code == 201, started.text
    finally:
        transaction.commit()
        held.close()
    result = await _finished(api, sync_id)

    assert _counts(result) == (2, 1, 0, 1, 0)
    raced_assessment = await get_assessment(api, raced)
    assert raced_assessment["status"] == "IN_PROGRESS"
    assert _personal_checks(raced_assessment) == ["Name matches the ID document"]
    assert _personal_checks(await get_assessment(api, blocker)) == NEW_CHECKS
    assert {c["application_id"] for c in result["changes"]} == {blocker}


def _lock_waits(engine: Engine) -> int:
    with engine.connect() as conn:
        waiting: int = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
        return waiting


@pytest.mark.parametrize(
    ("headers", "post_status", "get_status"),
    [
        (ADMIN, 202, 200),
        (ASSESSOR, 403, 200),
        (bearer("rev-9", "reviewer"), 403, 403),
        (bearer("asg-9", "assigner"), 403, 403),
        (ALICE, 403, 403),
        ({}, 401, 401),
    ],
)
async def test_admins_start_syncs_admins_and_assessors_read_them(
    api: httpx.AsyncClient, headers: dict[str, str], post_status: int, get_status: int
) -> None:
    sync_id = await _start(api, {"dry_run": True})
    await _finished(api, sync_id)

    posted = await api.post("/v1/checklist-syncs", json={"dry_run": True}, headers=headers)
    read = await api.get(f"/v1/checklist-syncs/{sync_id}", headers=headers)

    assert (posted.status_code, read.status_code) == (post_status, get_status)
    assert read.headers["content-type"].startswith(
        "application/json" if get_status == 200 else "application/problem+json"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template_code": "no such template"}, "template_code"),
        ({"template_code": "ghost"}, "template_code"),
        ({"dry_run": "sometimes"}, "dry_run"),
        ({"page_size": 5}, "page_size"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    api: httpx.AsyncClient, body: JSON, field: str
) -> None:
    response = await api.post("/v1/checklist-syncs", json=body, headers=ADMIN)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {error["field"] for error in response.json()["errors"]}


async def test_an_unknown_sync_is_a_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/checklist-syncs/nope", headers=ADMIN)

    assert response.status_code == 404, response.text
    assert response.json()["status"] == 404
