"""Steps the outcome HTTP scenarios share: records, submissions, tokens per role."""

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.tokens import bearer

ADMIN = bearer("admin-1", "admin")
ASSESSOR = bearer("assessor-1", "assessor")
QA = bearer("qa-1", "qa")
RELEASER = bearer("releaser-1", "releaser")
QA_RELEASER = bearer("qa-rel-1", "qa", "releaser")
AWARDING_ORG = bearer("ao-1", "awarding_org")
INTEGRATION = bearer("int-1", "integration")


@dataclass(frozen=True)
class Setup:
    """A provider, an employer, a candidate and one element, made through the API."""

    provider_id: str
    employer_id: str
    candidate_id: str
    element_id: str

    def external(self, role: str) -> dict[str, str]:
        """A token of `role` in this setup's organisation for that role."""
        org = {
            "candidate": self.candidate_id,
            "provider": self.provider_id,
            "employer": self.employer_id,
        }[role]
        return bearer(f"{role}-user", role, org=org)


async def post(api: httpx.AsyncClient, path: str, body: dict[str, Any], headers: Any) -> Any:
    """POST and expect 201."""
    response = await api.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def setup(
    api: httpx.AsyncClient, *, auto_release: bool = True, status: str = "IN_ASSESSMENT"
) -> Setup:
    """Records for one candidate (of a provider that auto-releases unless told otherwise)."""
    provider = await post(
        api, "/v1/providers", {"name": "Acme", "auto_release_outcomes": auto_release}, ADMIN
    )
    employer = await post(api, "/v1/employers", {"name": "Widgets Ltd"}, ADMIN)
    candidate = await post(
        api,
        "/v1/candidates",
        {
            "name": "Ada Apprentice",
            "uln": "1234567890",
            "provider_id": provider["id"],
            "employer_id": employer["id"],
            "standard": "ST0001",
            "cohort": "2026",
            "status": status,
        },
        ADMIN,
    )
    element = await element_for(api, candidate["id"])
    return Setup(provider["id"], employer["id"], candidate["id"], element)


async def element_for(
    api: httpx.AsyncClient, candidate_id: str, component: str = "practical"
) -> str:
    """A new element of the candidate."""
    body = {
        "candidate_id": candidate_id,
        "component": component,
        "scheduled_at": "2026-01-05T09:00:00Z",
    }
    return str((await post(api, "/v1/elements", body, ADMIN))["id"])


async def submit_result(
    api: httpx.AsyncClient, element_id: str, grade: str = "PASS", *, sampled: bool = False
) -> dict[str, Any]:
    """Submit a result as the assessor; returns the internal view."""
    body = {"element_id": element_id, "grade": grade, "sampled_for_qa": sampled}
    result: dict[str, Any] = await post(api, "/v1/results", body, ASSESSOR)
    return result


async def submit_certification(
    api: httpx.AsyncClient, candidate_id: str, grade: str = "PASS", *, sampled: bool = False
) -> dict[str, Any]:
    """Save a certification as the assessor."""
    body = {"candidate_id": candidate_id, "grade": grade, "sampled_for_qa": sampled}
    result: dict[str, Any] = await post(api, "/v1/certifications", body, ASSESSOR)
    return result


async def release_now(api: httpx.AsyncClient, kind: str, outcome_id: str) -> httpx.Response:
    """PATCH the outcome's release to now."""
    return await api.patch(
        f"/v1/outcome-releases/{kind}/{outcome_id}", json={"mode": "now"}, headers=RELEASER
    )


async def sla_reaching(
    api: httpx.AsyncClient, definition: str, subject: str, status: str
) -> dict[str, Any]:
    """The SLA row once it shows `status` (each step is recorded by the SLA's own workflow)."""
    items: list[dict[str, Any]] = []
    for _ in range(100):
        answer = await api.get(
            f"/v1/slas?definition={definition}&subject={subject}", headers=RELEASER
        )
        items = answer.json()["items"]
        if items and items[0]["status"] == status:
            found: dict[str, Any] = items[0]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{definition} of {subject} never became {status}: {items}")
