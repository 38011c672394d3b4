"""Users (admin): create, read, patch roles and review grants."""

import httpx
import pytest

from tests.api.flows import ADMIN, REVIEWER

GRANT = {"template_code": "qts", "stage": "assessment", "level": 1, "sections": ["personal"]}


async def test_admin_creates_reads_and_patches_a_user(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/v1/users",
        json={"id": "rev-7", "name": "Rita", "roles": ["reviewer"], "review_grants": [GRANT]},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text

    patched = await api.patch(
        "/v1/users/rev-7", json={"roles": ["reviewer", "assigner"]}, headers=ADMIN
    )
    shown = (await api.get("/v1/users/rev-7", headers=ADMIN)).json()

    assert patched.status_code == 200
    assert shown["roles"] == ["reviewer", "assigner"]
    assert shown["review_grants"] == [GRANT]
    assert shown["name"] == "Rita"


async def test_a_taken_id_is_409_and_an_unknown_one_404(api: httpx.AsyncClient) -> None:
    body = {"id": "u1", "name": "U", "roles": []}
    await api.post("/v1/users", json=body, headers=ADMIN)

    assert (await api.post("/v1/users", json=body, headers=ADMIN)).status_code == 409
    assert (await api.get("/v1/users/nobody", headers=ADMIN)).status_code == 404
    missing = await api.patch("/v1/users/nobody", json={"name": "N"}, headers=ADMIN)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "No id"}, {"id"}),
        ({"id": "u2", "name": "", "roles": []}, {"name"}),
        ({"id": "u2", "name": "U", "roles": ["wizard"]}, {"roles.0"}),
        (
            {"id": "u2", "name": "U", "review_grants": [{"template_code": "qts"}]},
            {"review_grants.0.stage", "review_grants.0.level"},
        ),
        (
            {"id": "u2", "name": "U", "review_grants": [{**GRANT, "level": 0}]},
            {"review_grants.0.level"},
        ),
        ({"id": "u 2", "name": "U"}, {"id"}),
        ({"id": "u2", "name": "U", "colour": "blue"}, {"colour"}),
    ],
)
async def test_invalid_bodies_are_422_naming_each_bad_field(
    api: httpx.AsyncClient, body: dict[str, object], fields: set[str]
) -> None:
    response = await api.post("/v1/users", json=body, headers=ADMIN)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {error["field"] for error in response.json()["errors"]} == fields


async def test_only_admins_manage_users(api: httpx.AsyncClient) -> None:
    body = {"id": "u3", "name": "U"}

    assert (await api.post("/v1/users", json=body, headers=REVIEWER)).status_code == 403
    assert (await api.get("/v1/users/admin-1", headers=REVIEWER)).status_code == 403
    patch = await api.patch("/v1/users/admin-1", json={"name": "X"}, headers=REVIEWER)
    assert patch.status_code == 403
