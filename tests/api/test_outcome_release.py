"""HTTP scenarios for each release path, against the real worker and database."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select

from models.action import Action
from models.event import AuditEntry
from tests.api.outcome_flows import (
    ADMIN,
    ASSESSOR,
    QA,
    QA_RELEASER,
    RELEASER,
    release_now,
    setup,
    submit_certification,
    submit_result,
)


async def test_an_unsampled_result_of_an_auto_releasing_provider_is_released_at_once(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api)
    result = await submit_result(api, records.element_id)
    assert result["status"] == "RELEASED"
    assert result["release_method"] == "AUTOMATIC"
    assert result["released_at"] is not None


async def test_without_auto_release_the_result_waits_with_a_releaser_action(
    api: httpx.AsyncClient, db: Engine
) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id, "MERIT")
    assert result["status"] == "PENDING_RELEASE"
    assert result["pending_release"] is True
    assert result["grade"] == "MERIT"

    todo = (await api.get("/v1/actions", headers=RELEASER)).json()["items"]
    assert [(a["subject_id"], a["role"]) for a in todo] == [(result["id"], "releaser")]
    assert (await api.get("/v1/actions", headers=QA)).json()["items"] == []

    released = await release_now(api, "result", result["id"])
    assert released.status_code == 200, released.text
    assert released.json()["release_method"] == "MANUAL"
    assert (await api.get("/v1/actions", headers=RELEASER)).json()["items"] == []
    again = await release_now(api, "result", result["id"])
    assert again.status_code == 409
    assert "already released" in again.json()["detail"]
    with Session(db) as session:
        action = session.exec(select(Action)).one()
        releases = session.exec(select(AuditEntry).where(AuditEntry.action == "released")).all()
    assert action.status == "DONE"
    assert len(releases) == 1


async def test_a_sampled_result_goes_through_qa_then_auto_release(api: httpx.AsyncClient) -> None:
    records = await setup(api)
    result = await submit_result(api, records.element_id, sampled=True)
    assert result["status"] == "IN_QA"
    assert result["pending_qa"] is True

    signed = await api.post(f"/v1/results/{result['id']}/qa", json={"passed": True}, headers=QA)
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "RELEASED"
    assert signed.json()["release_method"] == "AUTOMATIC"


async def test_release_with_qa_needs_both_roles_and_a_holding_provider(
    api: httpx.AsyncClient,
) -> None:
    holding = await setup(api, auto_release=False)
    result = await submit_result(api, holding.element_id, sampled=True)
    qa_only = await api.post(
        f"/v1/results/{result['id']}/qa",
        json={"passed": True, "release_with_qa": True},
        headers=QA,
    )
    assert qa_only.status_code == 422
    assert qa_only.json()["errors"][0]["field"] == "release_with_qa"

    released = await api.post(
        f"/v1/results/{result['id']}/qa",
        json={"passed": True, "release_with_qa": True},
        headers=QA_RELEASER,
    )
    assert released.status_code == 200, released.text
    assert released.json()["release_method"] == "WITH_QA"

    auto = await setup(api)
    other = await submit_result(api, auto.element_id, sampled=True)
    refused = await api.post(
        f"/v1/results/{other['id']}/qa",
        json={"passed": True, "release_with_qa": True},
        headers=QA_RELEASER,
    )
    assert refused.status_code == 409
    assert "does not auto-release" in refused.json()["detail"]
    still = await api.get(f"/v1/results/{other['id']}", headers=QA)
    assert still.json()["status"] == "IN_QA"


async def test_qa_failure_sends_the_result_back_for_amendment(api: httpx.AsyncClient) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id, "PASS", sampled=True)
    path = f"/v1/results/{result['id']}"

    failed = await api.post(f"{path}/qa", json={"passed": False}, headers=QA)
    assert failed.json()["status"] == "AMENDMENT_REQUIRED"
    second = await api.post(f"{path}/qa", json={"passed": True}, headers=QA)
    assert second.status_code == 409
    assert second.json()["allowed"] == ["amend"]

    amended = await api.post(f"{path}/amend", json={"grade": "FAIL"}, headers=ASSESSOR)
    assert amended.json()["status"] == "IN_QA"
    passed = await api.post(f"{path}/qa", json={"passed": True}, headers=QA)
    assert passed.json()["status"] == "PENDING_RELEASE"
    assert passed.json()["grade"] == "FAIL"


async def test_void_is_released_at_once_whatever_the_provider_and_sample(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id, "VOID", sampled=True)
    assert result["status"] == "RELEASED"
    assert result["release_method"] == "VOID"


async def test_a_certification_follows_the_same_rule(api: httpx.AsyncClient) -> None:
    records = await setup(api, auto_release=False)
    cert = await submit_certification(api, records.candidate_id, "DISTINCTION", sampled=True)
    signed = await api.post(
        f"/v1/certifications/{cert['id']}/qa", json={"passed": True}, headers=QA
    )
    assert signed.json()["status"] == "PENDING_RELEASE"
    released = await release_now(api, "certification", cert["id"])
    assert released.json()["release_method"] == "MANUAL"


async def test_changing_the_provider_setting_is_not_retroactive(api: httpx.AsyncClient) -> None:
    records = await setup(api, auto_release=False)
    before = await submit_result(api, records.element_id)
    patched = await api.patch(
        f"/v1/providers/{records.provider_id}",
        json={"auto_release_outcomes": True},
        headers=ADMIN,
    )
    assert patched.status_code == 200, patched.text
    after = await submit_result(api, records.element_id)

    kept = await api.get(f"/v1/results/{before['id']}", headers=RELEASER)
    assert kept.json()["status"] == "PENDING_RELEASE"
    assert after["status"] == "RELEASED"


async def test_scheduling_a_release_and_moving_it(api: httpx.AsyncClient) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id)
    soon = datetime.now(UTC) + timedelta(days=30)
    body = {
        "outcomes": [{"kind": "result", "id": result["id"]}],
        "mode": "scheduled",
        "release_at": soon.isoformat(),
    }
    scheduled = await api.post("/v1/outcome-releases", json=body, headers=RELEASER)
    assert scheduled.status_code == 200, scheduled.text
    [item] = scheduled.json()["results"]
    assert item["status"] == 200
    assert item["outcome"]["status"] == "PENDING_RELEASE"
    assert datetime.fromisoformat(item["outcome"]["scheduled_release_at"]) == soon

    later = soon + timedelta(days=1)
    moved = await api.patch(
        f"/v1/outcome-releases/result/{result['id']}",
        json={"mode": "scheduled", "release_at": later.isoformat()},
        headers=RELEASER,
    )
    assert datetime.fromisoformat(moved.json()["scheduled_release_at"]) == later
    pending = (await api.get("/v1/outcome-releases/pending", headers=RELEASER)).json()["items"]
    assert [datetime.fromisoformat(p["scheduled_release_at"]) for p in pending] == [later]

    now = await release_now(api, "result", result["id"])
    assert now.json()["release_method"] == "MANUAL"


async def test_a_past_instant_is_refused(api: httpx.AsyncClient) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cases: list[tuple[str, dict[str, Any]]] = [
        (
            "/v1/outcome-releases",
            {"outcomes": [{"kind": "result", "id": result["id"]}], "mode": "scheduled"},
        ),
        (f"/v1/outcome-releases/result/{result['id']}", {"mode": "scheduled"}),
    ]
    for path, body in cases:
        call = api.post if path.endswith("releases") else api.patch
        response = await call(path, json={**body, "release_at": past}, headers=RELEASER)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "release_at"


async def test_direct_release_answers_each_outcome(api: httpx.AsyncClient) -> None:
    records = await setup(api, auto_release=False)
    pending = await submit_result(api, records.element_id)
    in_qa = await submit_result(api, records.element_id, sampled=True)
    body = {
        "outcomes": [
            {"kind": "result", "id": pending["id"]},
            {"kind": "result", "id": in_qa["id"]},
            {"kind": "result", "id": "no-such-result"},
        ],
        "mode": "now",
    }
    response = await api.post("/v1/outcome-releases", json=body, headers=RELEASER)
    assert response.status_code == 200, response.text
    statuses = {item["id"]: item["status"] for item in response.json()["results"]}
    assert statuses == {pending["id"]: 200, in_qa["id"]: 409, "no-such-result": 404}
    assert (await api.post("/v1/outcome-releases", json=body, headers=QA)).status_code == 403
