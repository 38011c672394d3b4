"""Applications: who may see and change what, bad answers, drafts, withdrawal, the list."""

import base64
import json

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.api.flows import REVIEWER, answer_all, draft, publish_template, ready_draft
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")
BOB = bearer("bob", "applicant")


async def test_another_applicant_gets_404_everywhere(api: httpx.AsyncClient) -> None:
    application_id = await ready_draft(api, ALICE)
    base = f"/v1/applications/{application_id}"

    answers = [
        await api.get(base, headers=BOB),
        await api.get(f"{base}/history", headers=BOB),
        await api.put(f"{base}/responses/full_name", json={"value": "X"}, headers=BOB),
        await api.post(f"{base}/submit", headers=BOB),
        await api.post(f"{base}/withdraw", headers=BOB),
    ]

    assert [a.status_code for a in answers] == [404] * 5
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    assert (await api.get(base, headers=ALICE)).json()["responses"][0]["value"] != "X"


async def test_staff_read_but_cannot_act_for_the_applicant(api: httpx.AsyncClient) -> None:
    application_id = await ready_draft(api, ALICE)
    base = f"/v1/applications/{application_id}"

    assert (await api.get(base, headers=REVIEWER)).status_code == 200
    edit = await api.put(f"{base}/responses/full_name", json={"value": "X"}, headers=REVIEWER)
    submit = await api.post(f"{base}/submit", headers=REVIEWER)

    assert (edit.status_code, submit.status_code) == (403, 403)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic YWxpY2U6cHc="},
        bearer("x", "applicant")
        | {"Authorization": bearer("x", "applicant")["Authorization"] + "x"},
    ],
    ids=["missing", "garbage", "wrong-scheme", "forged-signature"],
)
async def test_without_a_valid_token_every_endpoint_is_401(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    calls = [
        api.get("/v1/applications/some-id", headers=headers),
        api.post("/v1/applications", json={"template_code": "qts"}, headers=headers),
        api.get("/v1/templates/qts", headers=headers),
        api.get("/v1/users/admin", headers=headers),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_an_unsigned_alg_none_token_is_refused(api: httpx.AsyncClient) -> None:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"sub": "admin", "roles": ["admin"], "exp": 4102444800}
    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."

    response = await api.get("/v1/users/admin", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


async def test_health_and_docs_need_no_token(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    assert (await api.get("/readyz")).status_code == 200
    assert (await api.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize(
    ("element", "value", "field"),
    [
        ("years", "four", "value"),
        ("years", True, "value"),
        ("birth_date", "10/12/1990", "value"),
        ("email", "not an email", "value"),
        ("full_name", 42, "value"),
        ("no_such_element", "x", "element_code"),
    ],
)
async def test_a_bad_answer_is_422_naming_the_field_and_changes_nothing(
    api: httpx.AsyncClient, element: str, value: object, field: str
) -> None:
    await publish_template(api)
    application_id = await draft(api, ALICE)

    response = await api.put(
        f"/v1/applications/{application_id}/responses/{element}",
        json={"value": value},
        headers=ALICE,
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    shown = (await api.get(f"/v1/applications/{application_id}", headers=ALICE)).json()
    assert shown["responses"] == []


async def test_a_draft_on_an_unknown_template_is_422(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/applications", json={"template_code": "nope"}, headers=ALICE)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "template_code", "message": "no such template"}]


async def test_only_applicants_create_applications(api: httpx.AsyncClient) -> None:
    await publish_template(api)

    response = await api.post("/v1/applications", json={"template_code": "qts"}, headers=REVIEWER)

    assert response.status_code == 403


async def test_editing_a_draft_answer_keeps_one_response(api: httpx.AsyncClient) -> None:
    application_id = await ready_draft(api, ALICE)
    url = f"/v1/applications/{application_id}/responses/full_name"

    first = (await api.put(url, json={"value": "Ada"}, headers=ALICE)).json()
    second = (await api.put(url, json={"value": "Ada L."}, headers=ALICE)).json()

    assert first["response_id"] == second["response_id"]
    shown = (await api.get(f"/v1/applications/{application_id}", headers=ALICE)).json()
    names = [r["value"] for r in shown["responses"] if r["element_code"] == "full_name"]
    assert names == ["Ada L."]


async def test_a_submitted_application_cannot_be_edited(api: httpx.AsyncClient) -> None:
    application_id = await ready_draft(api, ALICE)
    await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    response = await api.put(
        f"/v1/applications/{application_id}/responses/full_name",
        json={"value": "Changed"},
        headers=ALICE,
    )

    assert response.status_code == 409
    assert response.json()["allowed"] == ["withdraw"]


async def test_withdrawing_a_draft_needs_no_workflow(api: httpx.AsyncClient) -> None:
    await publish_template(api)
    application_id = await draft(api, ALICE)

    response = await api.post(f"/v1/applications/{application_id}/withdraw", headers=ALICE)

    assert response.status_code == 200
    assert response.json()["status"] == "WITHDRAWN"
    again = await api.post(f"/v1/applications/{application_id}/withdraw", headers=ALICE)
    assert again.status_code == 409
    assert again.json()["allowed"] == []


async def test_withdrawing_a_submitted_application_completes_its_workflow(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    application_id = await ready_draft(api, ALICE)
    await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    response = await api.post(f"/v1/applications/{application_id}/withdraw", headers=ALICE)

    assert response.status_code == 200
    assert response.json()["status"] == "WITHDRAWN"
    handle = dev_env.client.get_workflow_handle(f"application-{application_id}")
    result = await handle.result()
    assert result["status"] == "WITHDRAWN"
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    url = f"/v1/applications/{application_id}/history"
    history = (await api.get(url, headers=REVIEWER)).json()["items"]
    assert [entry["action"] for entry in history] == [
        "created",
        "submitted",
        "level_reached",
        "withdrawn",
    ]
    own = (await api.get(url, headers=ALICE)).json()["items"]
    assert [entry["action"] for entry in own] == ["created", "submitted", "withdrawn"]
    blocked = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)
    assert blocked.status_code == 409


async def test_staff_list_applications_newest_first_with_filters_and_cursor(
    api: httpx.AsyncClient,
) -> None:
    await publish_template(api)
    ids = [await draft(api, ALICE) for _ in range(3)]
    await answer_all(api, ALICE, ids[0])
    await api.post(f"/v1/applications/{ids[0]}/submit", headers=ALICE)

    first = (await api.get("/v1/applications?limit=2", headers=REVIEWER)).json()
    rest = (
        await api.get(f"/v1/applications?limit=2&cursor={first['next_cursor']}", headers=REVIEWER)
    ).json()
    submitted = (await api.get("/v1/applications?status=SUBMITTED", headers=REVIEWER)).json()

    assert [a["id"] for a in first["items"] + rest["items"]] == ids[::-1]
    assert rest["next_cursor"] is None
    assert [a["id"] for a in submitted["items"]] == [ids[0]]
    assert (await api.get("/v1/applications", headers=ALICE)).status_code == 403
    bad = await api.get("/v1/applications?cursor=%%%", headers=REVIEWER)
    assert bad.status_code == 422
