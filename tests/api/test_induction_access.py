"""Inductions over HTTP: who may report, claim and read, and bad input (problem JSON)."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from models.induction import InductionReport
from tests.api.test_induction import ab_claim, school_report
from tests.support.tokens import bearer

SCHOOL = bearer("sam", "school", org="school-1")
AB_1 = bearer("alex", "appropriate_body", org="ab-1")


@pytest.fixture
def base() -> str:
    """A teacher of the test's own: registrations outlive a test on the shared dev server."""
    return f"/v1/inductions/{uuid.uuid4().int % 10_000_000:07d}"


def _stored(db: Engine) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(InductionReport)).one()


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("school-reports", school_report(), bearer("r", "reviewer")),
        ("school-reports", school_report(), bearer("a", "appropriate_body", org="school-1")),
        ("ab-claims", ab_claim("ab-1"), bearer("s", "school", org="ab-1")),
        ("ab-claims", ab_claim("ab-1"), bearer("root", "admin")),
        ("migrated-reports", {"start_date": "2024-09-01"}, SCHOOL),
        ("ab-releases", None, SCHOOL),
    ],
)
async def test_the_wrong_role_is_forbidden(
    api: httpx.AsyncClient, db: Engine, base: str, path: str, body: Any, headers: dict[str, str]
) -> None:
    _problem(await api.post(f"{base}/{path}", json=body, headers=headers), 403)
    assert _stored(db) == 0


@pytest.mark.parametrize(
    ("path", "body", "headers", "field"),
    [
        ("school-reports", school_report(), bearer("s", "school", org="school-2"), "school_id"),
        ("school-reports", school_report(), bearer("s", "school"), "school_id"),
        (
            "ab-claims",
            ab_claim("ab-1"),
            bearer("b", "appropriate_body", org="ab-2"),
            "appropriate_body_id",
        ),
        (
            "ab-releases",
            {"appropriate_body_id": "ab-1"},
            bearer("b", "appropriate_body", org="ab-2"),
            "appropriate_body_id",
        ),
    ],
)
async def test_a_party_reports_only_for_its_own_org(
    api: httpx.AsyncClient,
    db: Engine,
    base: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    field: str,
) -> None:
    problem = _problem(await api.post(f"{base}/{path}", json=body, headers=headers), 403)
    assert problem["errors"][0]["field"] == field
    assert _stored(db) == 0


async def test_no_token_is_401(api: httpx.AsyncClient, base: str) -> None:
    _problem(await api.post(f"{base}/school-reports", json=school_report()), 401)
    _problem(await api.get(base), 401)


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("/v1/inductions/12AB/school-reports", school_report(), {"path.trn"}),
        (None, school_report(programme_type="remote"), {"programme_type"}),
        (None, school_report(start_date="2025-13-40"), {"start_date"}),
        (None, school_report(school_id="  "), {"school_id"}),
        (None, {"school_id": "school-1"}, {"appropriate_body_id", "programme_type", "start_date"}),
        (None, school_report(extra="x"), {"extra"}),
    ],
)
async def test_bad_input_is_422_naming_each_field(
    api: httpx.AsyncClient,
    db: Engine,
    base: str,
    path: str | None,
    body: dict[str, Any],
    fields: set[str],
) -> None:
    response = await api.post(path or f"{base}/school-reports", json=body, headers=SCHOOL)

    problem = _problem(response, 422)
    assert {error["field"] for error in problem["errors"]} == fields
    assert _stored(db) == 0


async def test_a_bad_claim_and_an_empty_migration_are_422(
    api: httpx.AsyncClient, base: str
) -> None:
    claim = {"appropriate_body_id": "ab-1", "programme_type": "x", "started_on": "soon"}
    problem = _problem(await api.post(f"{base}/ab-claims", json=claim, headers=AB_1), 422)
    assert {e["field"] for e in problem["errors"]} == {"programme_type", "started_on"}

    admin = bearer("root", "admin")
    _problem(await api.post(f"{base}/migrated-reports", json={}, headers=admin), 422)


async def test_releasing_what_you_do_not_hold_is_409(api: httpx.AsyncClient, base: str) -> None:
    nothing = _problem(await api.post(f"{base}/ab-releases", headers=AB_1), 409)
    assert "ab-1 holds no open claim" in nothing["detail"]

    await api.post(f"{base}/ab-claims", json=ab_claim("ab-1"), headers=AB_1)
    other = bearer("b", "appropriate_body", org="ab-2")
    held = _problem(await api.post(f"{base}/ab-releases", headers=other), 409)
    assert "ab-1 holds it" in held["detail"]


async def test_each_reader_sees_only_its_teachers(api: httpx.AsyncClient, base: str) -> None:
    await api.post(f"{base}/school-reports", json=school_report(), headers=SCHOOL)
    await api.post(f"{base}/ab-claims", json=ab_claim("ab-1"), headers=AB_1)

    assert (await api.get(base, headers=SCHOOL)).status_code == 200
    assert (await api.get(base, headers=AB_1)).status_code == 200
    assert (await api.get(base, headers=bearer("root", "admin"))).status_code == 200
    for stranger in (
        bearer("s2", "school", org="school-2"),
        bearer("b2", "appropriate_body", org="ab-2"),
    ):
        _problem(await api.get(base, headers=stranger), 404)
    for refused in (bearer("r", "reviewer"), bearer("s0", "school")):  # no org: none is theirs
        _problem(await api.get(base, headers=refused), 403)
    _problem(await api.get("/v1/inductions/0000000", headers=bearer("root", "admin")), 404)
    _problem(await api.get("/v1/inductions/abc", headers=SCHOOL), 422)
