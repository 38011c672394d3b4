"""Idempotency-Key over HTTP: scoped to the verified caller, stored before it is sent."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from sqlalchemy import Engine, text

from api.idempotency import Claim, purge
from tests.api.flows import ready_draft
from tests.api.outcome_flows import ASSESSOR, RELEASER, setup, submit_result
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")
EXPIRE = "UPDATE {table} SET expires_at = now() - interval '1s'"


def forged(sub: str, *roles: str) -> dict[str, str]:
    """A token for a real user's id, signed with a secret the service does not know."""
    claims = {"sub": sub, "roles": list(roles), "exp": datetime.now(UTC) + timedelta(hours=1)}
    token = jwt.encode(claims, "a-secret-the-service-has-never-seen-0123", algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def stored_keys(db: Engine) -> int:
    with db.connect() as connection:
        return int(
            connection.execute(text("SELECT count(*) FROM idempotent_requests")).scalar_one()
        )


async def result_body(api: httpx.AsyncClient, provider_auto: bool = False) -> dict[str, object]:
    records = await setup(api, auto_release=provider_auto)
    return {"element_id": records.element_id, "grade": "DISTINCTION", "sampled_for_qa": False}


async def test_a_forged_token_repeating_a_users_key_gets_nothing_and_writes_nothing(
    api: httpx.AsyncClient, db: Engine
) -> None:
    body = await result_body(api)
    keyed = {**ASSESSOR, "Idempotency-Key": "result-1"}
    first = await api.post("/v1/results", json=body, headers=keyed)
    assert first.status_code == 201
    before = stored_keys(db)

    stolen = await api.post(
        "/v1/results",
        json=body,
        headers={**forged("assessor-1", "assessor"), "Idempotency-Key": "result-1"},
    )

    assert stolen.status_code == 401
    assert "DISTINCTION" not in stolen.text
    assert "idempotent-replayed" not in stolen.headers
    assert stored_keys(db) == before


async def test_a_forged_token_using_a_key_first_does_not_poison_it(
    api: httpx.AsyncClient, db: Engine
) -> None:
    body = await result_body(api)
    forger = await api.post(
        "/v1/results",
        json=body,
        headers={**forged("assessor-1", "assessor"), "Idempotency-Key": "fresh"},
    )
    assert forger.status_code == 401
    assert stored_keys(db) == 0

    real = await api.post(
        "/v1/results", json=body, headers={**ASSESSOR, "Idempotency-Key": "fresh"}
    )

    assert real.status_code == 201
    assert "idempotent-replayed" not in real.headers


async def test_an_immediate_retry_gets_the_first_answer_byte_for_byte(
    api: httpx.AsyncClient,
) -> None:
    body = await result_body(api)
    keyed = {**ASSESSOR, "Idempotency-Key": "at-once"}

    first = await api.post("/v1/results", json=body, headers=keyed)
    retry = await api.post("/v1/results", json=body, headers=keyed)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert retry.headers["idempotent-replayed"] == "true"


async def test_concurrent_retries_wait_for_the_first_and_create_once(
    api: httpx.AsyncClient, db: Engine
) -> None:
    body = await result_body(api)
    keyed = {**ASSESSOR, "Idempotency-Key": "twice-at-once"}

    answers = await asyncio.gather(
        *(api.post("/v1/results", json=body, headers=keyed) for _ in range(3))
    )

    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert len({answer.json()["id"] for answer in answers}) == 1
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM outcomes")).scalar_one() == 1


async def test_a_replayed_error_is_problem_json_as_first_sent(api: httpx.AsyncClient) -> None:
    keyed = {**ALICE, "Idempotency-Key": "no-such-template"}

    first = await api.post("/v1/applications", json={"template_code": "nope"}, headers=keyed)
    retry = await api.post("/v1/applications", json={"template_code": "nope"}, headers=keyed)

    assert 400 <= first.status_code < 500
    assert retry.status_code == first.status_code
    assert retry.headers["content-type"] == "application/problem+json"
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"


async def test_the_same_key_on_another_route_is_another_request(api: httpx.AsyncClient) -> None:
    application_id = await ready_draft(api, ALICE)
    keyed = {**ALICE, "Idempotency-Key": "shared"}

    created = await api.post("/v1/applications", json={"template_code": "qts"}, headers=keyed)
    submitted = await api.post(f"/v1/applications/{application_id}/submit", headers=keyed)

    assert created.status_code == 201
    assert submitted.status_code == 200
    assert "idempotent-replayed" not in submitted.headers


async def test_a_key_expires_after_its_time_and_is_purged(
    api: httpx.AsyncClient, db: Engine
) -> None:
    keyed = {**ALICE, "Idempotency-Key": "old"}
    await ready_draft(api, ALICE)
    first = await api.post("/v1/applications", json={"template_code": "qts"}, headers=keyed)
    with db.begin() as connection:
        connection.execute(text(EXPIRE.format(table="idempotent_requests")))
        connection.execute(text(EXPIRE.format(table="idempotent_changes")))

    again = await api.post("/v1/applications", json={"template_code": "qts"}, headers=keyed)

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in again.headers
    with db.begin() as connection:
        connection.execute(text(EXPIRE.format(table="idempotent_requests")))
    assert purge(db, now=datetime.now(UTC)) >= 1
    assert stored_keys(db) == 0


@pytest.mark.parametrize("key", ["", " ", "k" * 201, "tab\there", "é-accent"])
async def test_a_key_that_is_not_a_short_visible_token_is_422(
    api: httpx.AsyncClient, db: Engine, key: str
) -> None:
    await ready_draft(api, ALICE)
    response = await api.post(
        "/v1/applications",
        json={"template_code": "qts"},
        headers=[
            *((name.encode(), value.encode()) for name, value in ALICE.items()),
            (b"Idempotency-Key", key.encode()),
        ],
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM applications")).scalar_one() == 1


async def test_a_change_the_api_made_marks_the_key_in_the_same_transaction(
    api: httpx.AsyncClient, db: Engine
) -> None:
    await ready_draft(api, ALICE)
    keyed = {**ALICE, "Idempotency-Key": "marked"}

    await api.post("/v1/applications", json={"template_code": "qts"}, headers=keyed)

    claim = Claim(principal="alice", key="marked", method="POST", path="/v1/applications")
    with db.connect() as connection:
        marked = connection.execute(
            text("SELECT count(*) FROM idempotent_changes WHERE scope = :scope AND key = 'marked'"),
            {"scope": claim.scope},
        ).scalar_one()
    assert marked == 1


async def test_a_lost_answer_of_a_change_made_is_told_not_made_again(
    api: httpx.AsyncClient, db: Engine
) -> None:
    await ready_draft(api, ALICE)
    keyed = {**ALICE, "Idempotency-Key": "lost"}
    await api.post("/v1/applications", json={"template_code": "qts"}, headers=keyed)
    with db.begin() as connection:  # as if the API died between the commit and the answer
        connection.execute(text("DELETE FROM idempotent_requests"))

    retry = await api.post("/v1/applications", json={"template_code": "qts"}, headers=keyed)

    assert retry.status_code == 409
    assert "answer was lost" in retry.json()["detail"]
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM applications")).scalar_one() == 2


async def test_a_retry_after_a_lost_submit_answer_gets_the_workflows_first_outcome(
    api: httpx.AsyncClient, db: Engine
) -> None:
    application_id = await ready_draft(api, ALICE)
    url = f"/v1/applications/{application_id}/submit"
    keyed = {**ALICE, "Idempotency-Key": "submit-lost"}
    first = await api.post(url, headers=keyed)
    with db.begin() as connection:  # the update ran, the answer never reached the table
        connection.execute(text("DELETE FROM idempotent_requests"))

    retry = await api.post(url, headers=keyed)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    with db.connect() as connection:
        submissions = connection.execute(
            text("SELECT submission_count FROM applications WHERE id = :id"), {"id": application_id}
        ).scalar_one()
    assert submissions == 1


@pytest.mark.parametrize("route", ["POST", "PATCH"])
async def test_a_retry_after_a_lost_schedule_answer_gets_it_once_the_instant_has_passed(
    api: httpx.AsyncClient, db: Engine, route: str
) -> None:
    result = await submit_result(api, (await setup(api, auto_release=False)).element_id)
    release_at = datetime.now(UTC) + timedelta(seconds=1)
    one = {"mode": "scheduled", "release_at": release_at.isoformat()}
    path, body = {
        "POST": ("/v1/outcome-releases", {"outcomes": [{"kind": "result", "id": result["id"]}]}),
        "PATCH": (f"/v1/outcome-releases/result/{result['id']}", {}),
    }[route]
    keyed = {**RELEASER, "Idempotency-Key": f"schedule-lost-{route}"}
    first = await api.request(route, path, json={**body, **one}, headers=keyed)
    assert first.status_code == 200, first.text
    with db.begin() as connection:  # the update ran, the answer never reached the table
        connection.execute(text("DELETE FROM idempotent_requests"))
    await asyncio.sleep(max(0.0, (release_at - datetime.now(UTC)).total_seconds()) + 0.2)

    retry = await api.request(route, path, json={**body, **one}, headers=keyed)

    assert retry.status_code == 200, retry.text  # the first outcome, not "release_at is past"
    if route == "POST":
        assert [item["status"] for item in retry.json()["results"]] == [200]
    with db.connect() as connection:
        scheduled = connection.execute(
            text("SELECT count(*) FROM audit_log WHERE subject_id = :id AND action = :action"),
            {"id": result["id"], "action": "release_scheduled"},
        ).scalar_one()
    assert scheduled == 1


async def test_a_new_request_after_the_instant_is_still_refused(api: httpx.AsyncClient) -> None:
    result = await submit_result(api, (await setup(api, auto_release=False)).element_id)
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    body = {"outcomes": [{"kind": "result", "id": result["id"]}], "mode": "scheduled"}
    keyed = {**RELEASER, "Idempotency-Key": "late-from-the-start"}

    refused = await api.post(
        "/v1/outcome-releases", json={**body, "release_at": past}, headers=keyed
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "release_at"
