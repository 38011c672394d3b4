"""SLA calendars over HTTP: versions, validation (422 naming the field), who may call, and
definitions and running SLAs that name a calendar version (a real SlaWorkflow)."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.tokens import bearer
from workflows.payloads.sla import StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

ADMIN = bearer("admin", "admin")
STAFF = bearer("rel-1", "releaser")
DEFINITION = "result_complete_to_release"
OFFICE = {
    "timezone": "Europe/London",
    "working_hours": {"mon": [["13:00", "17:00"], ["09:00", "12:30"]], "fri": [["09:00", "17:00"]]},
    "holidays": ["2026-12-25", "2026-12-28"],
}


async def test_a_calendar_is_versioned_and_read_back(api: httpx.AsyncClient) -> None:
    first = await api.post("/v1/sla-calendars/office", json=OFFICE, headers=ADMIN)
    second = await api.post(
        "/v1/sla-calendars/office", json={**OFFICE, "holidays": []}, headers=ADMIN
    )
    latest = await api.get("/v1/sla-calendars/office", headers=STAFF)
    old = await api.get("/v1/sla-calendars/office/versions/1", headers=STAFF)

    assert (first.status_code, first.json()) == (201, {"code": "office", "version": 1})
    assert (second.status_code, second.json()["version"]) == (201, 2)
    assert latest.status_code == 200
    assert (latest.json()["version"], latest.json()["holidays"]) == (2, [])
    assert old.json()["holidays"] == ["2026-12-25", "2026-12-28"]
    assert old.json()["working_hours"]["mon"] == [["09:00", "12:30"], ["13:00", "17:00"]]
    assert old.json()["working_hours"]["sun"] == []
    assert old.json()["timezone"] == "Europe/London"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone", "IANA"),
        (
            {"working_hours": {"tue": [["09:00", "12:00"], ["11:30", "14:00"]]}},
            "working_hours",
            "overlap",
        ),
        ({"working_hours": {"wed": [["22:00", "06:00"]]}}, "working_hours", "cross midnight"),
        ({"working_hours": {"wed": [["9am", "5pm"]]}}, "working_hours", "HH:MM"),
        ({"working_hours": {"funday": [["09:00", "10:00"]]}}, "working_hours", "weekday"),
        ({"working_hours": {}}, "working_hours", "at least one"),
        ({"holidays": ["2026-02-30"]}, "holidays", "holidays[0]"),
        ({"holidays": ["2026-12-25", "25/12/2026"]}, "holidays", "holidays[1]"),
    ],
)
async def test_bad_calendars_get_422_naming_the_field_and_write_nothing(
    api: httpx.AsyncClient, change: dict[str, Any], field: str, words: str
) -> None:
    answer = await api.post("/v1/sla-calendars/bad", json={**OFFICE, **change}, headers=ADMIN)

    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert words in errors[0]["message"]
    assert (await api.get("/v1/sla-calendars/bad", headers=ADMIN)).status_code == 404


async def test_calendars_refuse_the_wrong_callers(api: httpx.AsyncClient) -> None:
    publish = await api.post("/v1/sla-calendars/office", json=OFFICE, headers=STAFF)
    external = await api.get("/v1/sla-calendars/office", headers=bearer("c", "candidate", org="x"))
    anonymous = await api.get("/v1/sla-calendars/office")

    assert (publish.status_code, external.status_code, anonymous.status_code) == (403, 403, 401)
    assert (await api.get("/v1/sla-calendars/office", headers=STAFF)).status_code == 404
    missing = await api.get("/v1/sla-calendars/office/versions/99999999999", headers=STAFF)
    assert missing.status_code == 404


async def test_a_definition_names_a_calendar_that_exists(api: httpx.AsyncClient) -> None:
    unknown = await api.post(
        f"/v1/sla-definitions/{DEFINITION}",
        json={"goal_s": 16 * 3600, "calendar": "nowhere"},
        headers=ADMIN,
    )
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["calendar"]


async def _row(api: httpx.AsyncClient, subject: str) -> dict[str, Any]:
    for _ in range(100):  # the workflow opens the instance in its own transaction
        items = (await api.get(f"/v1/slas?subject={subject}", headers=STAFF)).json()["items"]
        if items:
            found: dict[str, Any] = items[0]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no SLA for {subject}")


async def _start(dev_env: WorkflowEnvironment, task_queue: str) -> str:
    subject = str(uuid.uuid4())
    await dev_env.client.start_workflow(
        SlaWorkflow.run,
        StartSlaInput(definition=DEFINITION, subject=subject),
        id=sla_workflow_id(DEFINITION, subject),
        task_queue=task_queue,
    )
    return subject


async def test_running_slas_keep_the_calendar_version_they_started_on(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    await api.post("/v1/sla-calendars/office", json=OFFICE, headers=ADMIN)
    defined = await api.post(
        f"/v1/sla-definitions/{DEFINITION}",
        json={"goal_s": 16 * 3600, "calendar": "office"},
        headers=ADMIN,
    )
    assert defined.status_code == 201
    before = await _start(dev_env, task_queue)
    first = await _row(api, before)
    await api.post("/v1/sla-calendars/office", json={**OFFICE, "holidays": []}, headers=ADMIN)
    after = await _start(dev_env, task_queue)
    second = await _row(api, after)

    assert (first["calendar"], first["calendar_version"], first["goal_s"]) == ("office", 1, 57600)
    assert (second["calendar"], second["calendar_version"]) == ("office", 2)
    assert (await _row(api, before))["calendar_version"] == 1
    assert first["elapsed_s"] >= 0
    report = await api.get("/v1/reports/sla?format=json", headers=STAFF)
    rows = {r["subject"]: r for r in report.json()["items"]}
    assert rows[before]["calendar_version"] == 1
    assert rows[after]["calendar_version"] == 2


@pytest.mark.parametrize(
    "raw",
    [
        '{"timezone": "Europe/London\\u0000", "working_hours": {"mon": [["09:00", "17:00"]]}}',
        '{"timezone": "\\ud800", "working_hours": {"mon": [["09:00", "17:00"]]}}',
        '{"timezone": "UTC", "working_hours": {"mon": [["09:00\\u0000", "17:00"]]}}',
        '{"timezone": "UTC", "working_hours": {"mon": [["09:00", "17:00"]]}, '
        '"holidays": ["2026-12-25\\u0000"]}',
        '{"timezone": "UTC", "working_hours": {"mon": [["09:00"]]}}',
        '{"timezone": "UTC", "working_hours": {"mon": [["+9:00", "17:00"]]}}',
        '{"timezone": "UTC", "working_hours": {"mon": "09:00-17:00"}}',
    ],
)
async def test_unstorable_or_malformed_calendars_get_422(api: httpx.AsyncClient, raw: str) -> None:
    headers = {**ADMIN, "Content-Type": "application/json"}
    answer = await api.post("/v1/sla-calendars/odd", content=raw, headers=headers)

    assert answer.status_code == 422
    assert answer.json()["errors"]
    assert (await api.get("/v1/sla-calendars/odd", headers=ADMIN)).status_code == 404
