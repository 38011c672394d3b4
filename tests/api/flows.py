"""Steps that many HTTP scenarios share."""

from typing import Any

import httpx

from tests.support.builders import complete_answers, make_template
from tests.support.tokens import bearer

ADMIN = bearer("admin-1", "admin")
REVIEWER = bearer("rev-1", "reviewer")


async def publish_template(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Publish `make_template(**overrides)` as an admin."""
    response = await api.post("/v1/templates", json=make_template(**overrides), headers=ADMIN)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def draft(api: httpx.AsyncClient, applicant: dict[str, str], code: str = "qts") -> str:
    """A new draft's id."""
    response = await api.post("/v1/applications", json={"template_code": code}, headers=applicant)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "DRAFT"
    return str(response.json()["id"])


async def answer_all(
    api: httpx.AsyncClient, applicant: dict[str, str], application_id: str
) -> None:
    """Answer every element of the default template."""
    for element, value in complete_answers().items():
        response = await api.put(
            f"/v1/applications/{application_id}/responses/{element}",
            json={"value": value},
            headers=applicant,
        )
        assert response.status_code == 200, response.text


async def ready_draft(
    api: httpx.AsyncClient, applicant: dict[str, str], *, publish: bool = True
) -> str:
    """A complete draft (on a freshly published template unless told the latest will do)."""
    if publish:
        await publish_template(api)
    application_id = await draft(api, applicant)
    await answer_all(api, applicant, application_id)
    return application_id
