"""SLAs follow the outcomes and the candidate: started on completion, paused while the
candidate is inactive, stopped by the release."""

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from models.candidate import Element
from tests.api.outcome_flows import (
    ADMIN,
    RELEASER,
    release_now,
    setup,
    sla_reaching,
    submit_result,
)
from tests.support.temporal_gone import app_whose_temporal_is_gone


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

    await sla_reaching(api, definition, result["id"], "RUNNING")
    assert await _pending_ids(api, records.candidate_id) == [result["id"]]

    await _set_status(api, records.candidate_id, "BACK_INTO_LEARNING")
    await sla_reaching(api, definition, result["id"], "PAUSED")
    assert await _pending_ids(api, records.candidate_id) == []

    await _set_status(api, records.candidate_id, "IN_ASSESSMENT")
    await sla_reaching(api, definition, result["id"], "RUNNING")
    assert await _pending_ids(api, records.candidate_id) == [result["id"]]

    assert (await release_now(api, "result", result["id"])).status_code == 200
    met = await sla_reaching(api, definition, result["id"], "MET")
    element = await sla_reaching(
        api, "element_scheduled_to_outcome_release", records.element_id, "MET"
    )
    assert met["stopped_at"] is not None
    assert met["paused_s"] > 0
    assert element["stopped_at"] is not None


async def test_an_auto_released_result_invents_no_release_sla(api: httpx.AsyncClient) -> None:
    records = await setup(api, auto_release=True)
    result = await submit_result(api, records.element_id)

    await sla_reaching(api, "element_scheduled_to_outcome_release", records.element_id, "MET")
    answer = await api.get(f"/v1/slas?subject={result['id']}", headers=RELEASER)
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
    await sla_reaching(api, "candidate_time_in_epa", records.candidate_id, "PAUSED")
    await _set_status(api, records.candidate_id, "IN_ASSESSMENT")
    await sla_reaching(api, "candidate_time_in_epa", records.candidate_id, "RUNNING")


async def test_an_element_whose_sla_did_not_start_gets_it_from_the_keyed_retry(
    api: httpx.AsyncClient, db: Engine, task_queue: str
) -> None:
    records = await setup(api)
    body = {
        "candidate_id": records.candidate_id,
        "component": "oral",
        "scheduled_at": "2026-01-05T09:00:00Z",
    }
    keyed = {**ADMIN, "Idempotency-Key": "element-while-temporal-was-down"}
    async with app_whose_temporal_is_gone(db, task_queue) as down:
        first = await down.post("/v1/elements", json=body, headers=keyed)
    assert first.status_code == 503, first.text  # the element was written, its SLA not started

    retry = await api.post("/v1/elements", json=body, headers=keyed)

    assert retry.status_code == 201, retry.text  # not 409 "answer lost" with no SLA
    element_id = retry.json()["id"]
    await sla_reaching(api, "element_scheduled_to_outcome_release", element_id, "RUNNING")
    with Session(db) as session:
        count = session.exec(
            select(func.count())
            .select_from(Element)
            .where(Element.candidate_id == records.candidate_id)
        ).one()
    assert count == 2  # the setup's element and this one, written once
