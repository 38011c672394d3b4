"""Templates: publish versions, read the latest or a given version."""

from typing import Any

import httpx
import pytest

from tests.api.flows import ADMIN, REVIEWER, publish_template
from tests.support.builders import make_template
from tests.support.tokens import bearer


async def test_publishing_the_same_code_makes_the_next_version(api: httpx.AsyncClient) -> None:
    first = await publish_template(api)
    second = await publish_template(api, name="QTS, revised")

    latest = (await api.get("/v1/templates/qts", headers=REVIEWER)).json()
    old = (await api.get("/v1/templates/qts/versions/1", headers=REVIEWER)).json()

    assert (first, second) == ({"code": "qts", "version": 1}, {"code": "qts", "version": 2})
    assert (latest["version"], latest["name"]) == (2, "QTS, revised")
    assert (old["version"], old["name"]) == (1, "Qualified teacher status")
    assert latest["sections"][0]["failure_reasons"][0]["kind"] == "further_information"
    assert latest["loq_deadline_days"] == 42
    assert latest["loq_followup_deadline_days"] == 21


async def test_applications_keep_the_version_they_started_on(api: httpx.AsyncClient) -> None:
    await publish_template(api)
    applicant = bearer("alice", "applicant")
    created = await api.post("/v1/applications", json={"template_code": "qts"}, headers=applicant)
    await publish_template(api, name="v2")

    shown = (await api.get(f"/v1/applications/{created.json()['id']}", headers=applicant)).json()

    assert shown["template_version"] == 1


async def test_unknown_template_or_version_is_404(api: httpx.AsyncClient) -> None:
    await publish_template(api)

    assert (await api.get("/v1/templates/nope", headers=REVIEWER)).status_code == 404
    assert (await api.get("/v1/templates/qts/versions/9", headers=REVIEWER)).status_code == 404
    assert (await api.get("/v1/templates/qts/versions/0", headers=REVIEWER)).status_code == 422


def _section(**overrides: object) -> dict[str, object]:
    section = make_template()["sections"][0]
    return {**section, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sections": []}, "sections"),
        ({"stages": []}, "stages"),
        ({"stages": [{"code": "s", "name": "S", "levels": 0}]}, "stages.0.levels"),
        ({"code": "has space"}, "code"),
        ({"sections": [_section(), _section()]}, "sections"),
        (
            {"sections": [_section(elements=[{"code": "e", "title": "E", "type": "colour"}])]},
            "sections.0.elements.0.type",
        ),
        (
            {
                "sections": [
                    _section(failure_reasons=[{"code": "r", "label": "R", "kind": "maybe"}])
                ]
            },
            "sections.0.failure_reasons.0.kind",
        ),
        ({"loq_deadline_days": 0}, "loq_deadline_days"),
        ({"stages": [{"code": "pre", "name": "Pre", "levels": 1, "pre_assessment": True}]}, "body"),
    ],
)
async def test_invalid_templates_are_422_naming_the_field(
    api: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/v1/templates", json=make_template(**overrides), headers=ADMIN)

    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}


async def test_only_admins_publish_and_only_staff_read(api: httpx.AsyncClient) -> None:
    applicant = bearer("alice", "applicant")

    refused = await api.post("/v1/templates", json=make_template(), headers=REVIEWER)
    await publish_template(api)

    assert refused.status_code == 403
    assert (await api.get("/v1/templates/qts", headers=applicant)).status_code == 403
