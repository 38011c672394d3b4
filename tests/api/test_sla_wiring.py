"""SLAs follow the outcomes and the candidate: started on completion, paused while the
candidate is inactive, stopped by the release."""

import asyncio
from typing import Any

import httpx

from tests.api.outcome_flows import ADMIN, RELEASER, release_now, setup, submit_result
from tests.support.tokens import bearer

STAFF = bearer("rel-1", "releaser")


async def _sla(
    api: httpx.AsyncClient, definition: str, subject: str, status: str
) -> dict[str, Any]:
    for _ in range(100):  # each step is recorded by the SLA's own workflow
        answer = await api.get(f"/v1/slas?definition={definition}&subject={subject}", headers=STAFF)
        items = answer.json()["items"]
        if items and items[0]["status"] == status:
            found: dict[str, Any] = items[0]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{definition} of {subject} never became {status}: {items}")


async def _pending_ids(api: httpx.AsyncClient, candidate_id: str) -> list[str]:
    answer = await api.get(
        f"/v1/outcome-releases/pending?candidate_id={candidate_id}", headers=RELEASER
    )
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


async def _set_status(api: httpx.AsyncClient, candidate_id: str, status: str) -> None:
    answer = await api.patch(
        f"/v1/candidates/{candidate_id}", json={"status": status}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.text


async def test_a_pending_results_sla_pauses_with_the_candidate_and_stops_on_release(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id)
    definition = "result_complete_to_release"

    await _sla(api, definition, result["id"], "RUNNING")
    assert await _pending_ids(api, records.candidate_id) == [result["id"]]

    await _set_status(api, records.candidate_id, "BACK_INTO_LEARNING")
    await _sla(api, definition, result["id"], "PAUSED")
    assert await _pending_ids(api, records.candidate_id) == []

    await _set_status(api, records.candidate_id, "IN_ASSESSMENT")
    await _sla(api, definition, result["id"], "RUNNING")
    assert await _pending_ids(api, records.candidate_id) == [result["id"]]

    assert (await release_now(api, "result", result["id"])).status_code == 200
    met = await _sla(api, definition, result["id"], "MET")
    element = await _sla(api, "element_scheduled_to_outcome_release", records.element_id, "MET")
    assert met["stopped_at"] is not None
    assert met["paused_s"] > 0
    assert element["stopped_at"] is not None


async def test_an_auto_released_result_invents_no_release_sla(api: httpx.AsyncClient) -> None:
    records = await setup(api, auto_release=True)
    result = await submit_result(api, records.element_id)

    await _sla(api, "element_scheduled_to_outcome_release", records.element_id, "MET")
    answer = await api.get(f"/v1/slas?subject={result['id']}", headers=STAFF)
    assert answer.json()["items"] == []


async def test_gateway_approval_starts_time_in_epa_paused_while_inactive(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, status="BACK_INTO_LEARNING")

    answer = await api.patch(
        f"/v1/candidates/{records.candidate_id}",
        json={"gateway_approved_at": "2026-02-01T09:00:00Z"},
        headers=ADMIN,
    )

    assert answer.status_code == 200, answer.text
    await _sla(api, "candidate_time_in_epa", records.candidate_id, "PAUSED")
    await _set_status(api, records.candidate_id, "IN_ASSESSMENT")
    await _sla(api, "candidate_time_in_epa", records.candidate_id, "RUNNING")
