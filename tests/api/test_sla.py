"""GET /v1/slas and definition versions, over HTTP with a real SlaWorkflow on the dev server."""

import asyncio
import uuid
from typing import Any

import httpx
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.support.tokens import bearer
from workflows.payloads.sla import SlaState, StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

STAFF = bearer("rel-1", "releaser")
ADMIN = bearer("admin", "admin")
DEFINITION = "result_complete_to_release"


async def _start(
    dev_env: WorkflowEnvironment, task_queue: str
) -> tuple[str, WorkflowHandle[SlaWorkflow, SlaState]]:
    subject = str(uuid.uuid4())
    handle = await dev_env.client.start_workflow(
        SlaWorkflow.run,
        StartSlaInput(definition=DEFINITION, subject=subject),
        id=sla_workflow_id(DEFINITION, subject),
        task_queue=task_queue,
    )
    return subject, handle


async def _shown(api: httpx.AsyncClient, subject: str, status: str) -> dict[str, Any]:
    for _ in range(100):  # the workflow records each step in its own transaction
        items = (await api.get(f"/v1/slas?subject={subject}", headers=STAFF)).json()["items"]
        if items and items[0]["status"] == status:
            found: dict[str, Any] = items[0]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"SLA of {subject} never became {status}")


async def test_an_sla_runs_pauses_resumes_and_is_met(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    subject, handle = await _start(dev_env, task_queue)

    running = await _shown(api, subject, "RUNNING")
    await handle.signal(SlaWorkflow.pause)
    paused = await _shown(api, subject, "PAUSED")
    await handle.signal(SlaWorkflow.resume)
    await _shown(api, subject, "RUNNING")
    await handle.signal(SlaWorkflow.stop)
    met = await _shown(api, subject, "MET")

    assert (running["definition"], running["version"], running["goal_s"]) == (
        DEFINITION,
        1,
        14 * 86400,
    )
    assert paused["stopped_at"] is None
    assert met["stopped_at"] is not None
    assert met["elapsed_s"] + met["paused_s"] >= 0
    assert met["breached_at"] is None
    not_breached = await api.get(f"/v1/slas?subject={subject}&breached=false", headers=STAFF)
    assert [i["subject"] for i in not_breached.json()["items"]] == [subject]
    breached = await api.get(f"/v1/slas?subject={subject}&breached=true", headers=STAFF)
    assert breached.json()["items"] == []


async def test_a_new_definition_version_applies_to_new_instances_only(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    old, _ = await _start(dev_env, task_queue)
    await _shown(api, old, "RUNNING")

    published = await api.post(
        f"/v1/sla-definitions/{DEFINITION}",
        json={"goal_s": 3 * 86400, "warning_fractions": [0.9]},
        headers=ADMIN,
    )
    new, _ = await _start(dev_env, task_queue)

    assert published.status_code == 201
    version = published.json()["version"]
    assert version >= 2
    assert (await _shown(api, old, "RUNNING"))["goal_s"] == 14 * 86400
    fresh = await _shown(api, new, "RUNNING")
    assert (fresh["version"], fresh["goal_s"]) == (version, 3 * 86400)


async def test_sla_endpoints_refuse_the_wrong_callers_and_bad_input(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.get("/v1/slas", headers=bearer("c", "candidate", org="x"))).status_code == 403
    assert (await api.get("/v1/slas")).status_code == 401
    refused = await api.post(f"/v1/sla-definitions/{DEFINITION}", json={"goal_s": 1}, headers=STAFF)
    assert refused.status_code == 403
    bad = await api.post(
        f"/v1/sla-definitions/{DEFINITION}",
        json={"goal_s": 0, "warning_fractions": [1.5]},
        headers=ADMIN,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"goal_s", "warning_fractions"}
    missing = await api.post("/v1/sla-definitions/nope", json={"goal_s": 10}, headers=ADMIN)
    assert missing.status_code == 404
