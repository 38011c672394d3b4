"""Steps the review-cycle scenarios share: reviewers, a submitted case, rows, reviews."""

from collections import Counter
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models.application import ApplicationResponse
from tests.api.flows import ADMIN, answer_all, draft, publish_template
from tests.support.tokens import bearer

JSON = dict[str, Any]

ASSIGNER = bearer("asg-1", "assigner")
SINGLE_STAGE: list[JSON] = [{"code": "assessment", "name": "Assessment", "levels": 1}]
TWO_LEVELS: list[JSON] = [{"code": "assessment", "name": "Assessment", "levels": 2}]
SECTIONS = ["personal", "qualifications"]
ELEMENTS = ["birth_date", "degree", "email", "full_name", "years"]


def reviewer(sub: str) -> dict[str, str]:
    """A reviewer's Authorization header."""
    return bearer(sub, "reviewer")


def grant(stage: str = "assessment", level: int = 1, sections: list[str] | None = None) -> JSON:
    """A review grant on the `qts` template."""
    return {"template_code": "qts", "stage": stage, "level": level, "sections": sections}


async def add_reviewer(api: httpx.AsyncClient, user_id: str, *grants: JSON) -> None:
    """Create a reviewer user holding `grants` (as an admin)."""
    body = {"id": user_id, "name": f"Reviewer {user_id}", "roles": ["reviewer"]}
    response = await api.post(
        "/v1/users", json={**body, "review_grants": list(grants)}, headers=ADMIN
    )
    assert response.status_code == 201, response.text


async def set_grants(api: httpx.AsyncClient, user_id: str, *grants: JSON) -> None:
    """Replace a user's review grants (as an admin)."""
    response = await api.patch(
        f"/v1/users/{user_id}", json={"review_grants": list(grants)}, headers=ADMIN
    )
    assert response.status_code == 200, response.text


async def submitted_case(
    api: httpx.AsyncClient,
    applicant: dict[str, str],
    *,
    stages: list[JSON] = SINGLE_STAGE,
    reviewers: tuple[str, ...] = ("rev-1",),
) -> str:
    """Reviewers granted level 1 of the first stage, then a complete application submitted."""
    for user_id in reviewers:
        await add_reviewer(api, user_id, grant(stages[0]["code"]))
    await publish_template(api, stages=stages)
    application_id = await draft(api, applicant)
    await answer_all(api, applicant, application_id)
    response = await api.post(f"/v1/applications/{application_id}/submit", headers=applicant)
    assert response.status_code == 200, response.text
    return application_id


async def rows(api: httpx.AsyncClient, application_id: str) -> list[JSON]:
    """The application's open assignment rows (read by a reviewer)."""
    response = await api.get(
        f"/v1/applications/{application_id}/assignments", headers=reviewer("rev-1")
    )
    assert response.status_code == 200, response.text
    found: list[JSON] = response.json()["items"]
    return found


async def row_of(api: httpx.AsyncClient, application_id: str, reviewer_id: str) -> JSON:
    """The one open row of `reviewer_id`."""
    mine = [r for r in await rows(api, application_id) if r["reviewer_id"] == reviewer_id]
    assert len(mine) == 1, mine
    return mine[0]


async def self_assign(
    api: httpx.AsyncClient, assignment_id: str, reviewer_id: str, sections: list[str] | None = None
) -> httpx.Response:
    """The row's user takes `sections` (None: no body, every available one)."""
    url = f"/v1/assignments/{assignment_id}/self-assign"
    if sections is None:
        return await api.post(url, headers=reviewer(reviewer_id))
    return await api.post(url, json={"sections": sections}, headers=reviewer(reviewer_id))


async def start_review(
    api: httpx.AsyncClient, assignment_id: str, reviewer_id: str
) -> httpx.Response:
    """Start (201) or restart (200) the row's review."""
    return await api.post(f"/v1/assignments/{assignment_id}/reviews", headers=reviewer(reviewer_id))


async def take_and_start(
    api: httpx.AsyncClient, application_id: str, reviewer_id: str = "rev-1"
) -> tuple[str, str]:
    """The reviewer takes the whole row and starts its review: (assignment id, review id)."""
    row = await row_of(api, application_id, reviewer_id)
    taken = await self_assign(api, row["id"], reviewer_id)
    assert taken.status_code == 200, taken.text
    started = await start_review(api, row["id"], reviewer_id)
    assert started.status_code == 201, started.text
    assert started.json()["status"] == "DRAFT"
    return str(row["id"]), str(started.json()["review_id"])


async def get_review(api: httpx.AsyncClient, review_id: str, reviewer_id: str = "rev-1") -> JSON:
    """GET /v1/reviews/{id}."""
    response = await api.get(f"/v1/reviews/{review_id}", headers=reviewer(reviewer_id))
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


async def targets(
    api: httpx.AsyncClient, review_id: str, reviewer_id: str = "rev-1"
) -> dict[str, str]:
    """Element code → target id of the review's current responses."""
    shown = await get_review(api, review_id, reviewer_id)
    return {r["element_code"]: r["target_id"] for r in shown["responses"]}


async def decide(
    api: httpx.AsyncClient, review_id: str, target_id: str, reviewer_id: str = "rev-1", **body: Any
) -> httpx.Response:
    """PUT one decision of a draft review."""
    return await api.put(
        f"/v1/reviews/{review_id}/responses/{target_id}", json=body, headers=reviewer(reviewer_id)
    )


async def approve(
    api: httpx.AsyncClient, review_id: str, elements: list[str], reviewer_id: str = "rev-1"
) -> None:
    """APPROVE the current answers of `elements`."""
    found = await targets(api, review_id, reviewer_id)
    for element in elements:
        response = await decide(api, review_id, found[element], reviewer_id, decision="APPROVE")
        assert response.status_code == 200, response.text


async def decline(
    api: httpx.AsyncClient,
    review_id: str,
    element: str,
    reason: str,
    *,
    comment: str | None = None,
    visible: bool | None = None,
    reviewer_id: str = "rev-1",
) -> None:
    """DECLINE the current answer of `element` citing `reason`."""
    body: JSON = {"decision": "DECLINE", "failure_reason": reason, "comment": comment}
    if visible is not None:
        body["recommended_applicant_visibility"] = visible
    found = await targets(api, review_id, reviewer_id)
    response = await decide(api, review_id, found[element], reviewer_id, **body)
    assert response.status_code == 200, response.text


async def submit_review(
    api: httpx.AsyncClient, review_id: str, decision: str | None, reviewer_id: str = "rev-1"
) -> httpx.Response:
    """POST the review's submission carrying `decision`."""
    body = {} if decision is None else {"decision": decision}
    return await api.post(
        f"/v1/reviews/{review_id}/submit", json=body, headers=reviewer(reviewer_id)
    )


async def get_application(
    api: httpx.AsyncClient, application_id: str, headers: dict[str, str]
) -> JSON:
    """GET /v1/applications/{id} as `headers`' caller."""
    response = await api.get(f"/v1/applications/{application_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


async def history_actions(api: httpx.AsyncClient, application_id: str) -> list[str]:
    """The audit trail's actions, oldest first."""
    response = await api.get(
        f"/v1/applications/{application_id}/history", headers=reviewer("rev-1")
    )
    assert response.status_code == 200, response.text
    return [entry["action"] for entry in response.json()["items"]]


async def get_assessment(api: httpx.AsyncClient, application_id: str) -> JSON:
    """GET /v1/applications/{id}/assessment (read by a reviewer)."""
    response = await api.get(
        f"/v1/applications/{application_id}/assessment", headers=reviewer("rev-1")
    )
    assert response.status_code == 200, response.text
    body: JSON = response.json()
    return body


async def answer(
    api: httpx.AsyncClient,
    applicant: dict[str, str],
    application_id: str,
    element: str,
    value: Any,
) -> None:
    """The applicant (re)answers `element`."""
    response = await api.put(
        f"/v1/applications/{application_id}/responses/{element}",
        json={"value": value},
        headers=applicant,
    )
    assert response.status_code == 200, response.text


async def sent_back(api: httpx.AsyncClient, applicant: dict[str, str]) -> tuple[str, str, str]:
    """A case whose full_name went back in an LOQ: (application, assignment, review) ids."""
    application_id = await submitted_case(api, applicant)
    assignment_id, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ["birth_date", "degree", "email", "years"])
    await decline(api, review_id, "full_name", "id_mismatch", comment="Use your legal name")
    assert (await submit_review(api, review_id, "LIST_OF_QUESTIONS")).status_code == 200
    return application_id, assignment_id, review_id


def versions_per_element(db: Engine, application_id: str) -> dict[str, int]:
    """How many response rows each element holds (one per real change)."""
    with Session(db) as session:
        codes = session.exec(
            select(ApplicationResponse.element_code).where(
                col(ApplicationResponse.application_id) == application_id
            )
        ).all()
    return dict(Counter(codes))
