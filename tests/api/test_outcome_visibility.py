"""Every outcome endpoint walked as each role: one visibility rule everywhere."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.outcome_flows import (
    ADMIN,
    ASSESSOR,
    AWARDING_ORG,
    INTEGRATION,
    QA,
    RELEASER,
    Setup,
    element_for,
    release_now,
    setup,
    submit_certification,
    submit_result,
)
from tests.support.tokens import bearer

INTERNAL = {
    "admin": ADMIN,
    "assessor": ASSESSOR,
    "qa": QA,
    "releaser": RELEASER,
    "awarding_org": AWARDING_ORG,
    "integration": INTEGRATION,
}
EXTERNAL = ["candidate", "provider", "employer"]
WITHHELD = {"grade", "scheduled_release_at", "released_at", "release_method", "completed_at"}


async def _world(api: httpx.AsyncClient) -> tuple[Setup, dict[str, dict[str, Any]]]:
    """One candidate with a pending (scheduled) result, one in QA, one released, a certification."""
    records = await setup(api, auto_release=False)
    pending = await submit_result(api, records.element_id, "FAIL")
    in_qa = await submit_result(
        api, await element_for(api, records.candidate_id, "b"), sampled=True
    )
    released = await submit_result(api, await element_for(api, records.candidate_id, "c"), "MERIT")
    assert (await release_now(api, "result", released["id"])).status_code == 200
    cert = await submit_certification(api, records.candidate_id, "DISTINCTION")
    at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    scheduled = await api.patch(
        f"/v1/outcome-releases/result/{pending['id']}",
        json={"mode": "scheduled", "release_at": at},
        headers=RELEASER,
    )
    assert scheduled.status_code == 200, scheduled.text
    return records, {"pending": pending, "in_qa": in_qa, "released": released, "cert": cert}


def _check_external(body: dict[str, Any], outcome: dict[str, Any], released: bool) -> None:
    if released:
        assert body["status"] == "RELEASED"
        assert body["grade"] == outcome["grade"]
        assert body["released_at"] is not None
    else:
        assert body["status"] == "PENDING_QA"
        assert WITHHELD.isdisjoint(body)


@pytest.mark.parametrize("role", EXTERNAL)
async def test_external_users_see_pending_qa_and_no_grade_until_release(
    api: httpx.AsyncClient, role: str
) -> None:
    records, outcomes = await _world(api)
    token = records.external(role)
    for name, outcome in outcomes.items():
        path = "certifications" if name == "cert" else "results"
        body = (await api.get(f"/v1/{path}/{outcome['id']}", headers=token)).json()
        _check_external(body, outcome, released=name == "released")
    listed = (await api.get("/v1/results", headers=token)).json()["items"]
    assert len(listed) == 3
    for body in listed:
        outcome = next(o for o in outcomes.values() if o["id"] == body["id"])
        _check_external(body, outcome, released=outcome is outcomes["released"])
    certs = (await api.get("/v1/certifications", headers=token)).json()["items"]
    assert [c["status"] for c in certs] == ["PENDING_QA"]
    assert WITHHELD.isdisjoint(certs[0])
    for path in ["/v1/outcome-releases/pending", "/v1/events", "/v1/outcome-releases/batches/x"]:
        assert (await api.get(path, headers=token)).status_code == 403, path
    candidate = await api.get(f"/v1/candidates/{records.candidate_id}", headers=token)
    assert candidate.status_code == 200


@pytest.mark.parametrize("role", EXTERNAL)
async def test_external_users_of_another_org_see_nothing(api: httpx.AsyncClient, role: str) -> None:
    _, outcomes = await _world(api)
    stranger = bearer("stranger", role, org="some-other-org")
    for name, outcome in outcomes.items():
        path = "certifications" if name == "cert" else "results"
        response = await api.get(f"/v1/{path}/{outcome['id']}", headers=stranger)
        assert response.status_code == 404
    assert (await api.get("/v1/results", headers=stranger)).json()["items"] == []


@pytest.mark.parametrize("role", sorted(INTERNAL))
async def test_internal_users_see_every_grade_flagged_while_held(
    api: httpx.AsyncClient, role: str
) -> None:
    records, outcomes = await _world(api)
    token = INTERNAL[role]
    pending = (await api.get(f"/v1/results/{outcomes['pending']['id']}", headers=token)).json()
    assert pending["grade"] == "FAIL"
    assert pending["pending_release"] is True
    assert pending["scheduled_release_at"] is not None
    in_qa = (await api.get(f"/v1/results/{outcomes['in_qa']['id']}", headers=token)).json()
    assert (in_qa["grade"], in_qa["pending_qa"], in_qa["status"]) == ("PASS", True, "IN_QA")
    listed = (await api.get("/v1/results", headers=token)).json()["items"]
    assert {r["grade"] for r in listed} == {"FAIL", "PASS", "MERIT"}
    pending_list = (await api.get("/v1/outcome-releases/pending", headers=token)).json()
    assert {p["grade"] for p in pending_list["items"]} == {"FAIL", "DISTINCTION"}
    events = await api.get("/v1/events", headers=token)
    assert events.status_code == (200 if role in ("admin", "integration") else 403)
    candidate = await api.get(f"/v1/candidates/{records.candidate_id}", headers=token)
    assert candidate.status_code == 200


async def test_callers_without_an_outcome_role_are_refused(api: httpx.AsyncClient) -> None:
    _, outcomes = await _world(api)
    for token in (bearer("app", "applicant"), bearer("s", "school", org="x")):
        response = await api.get(f"/v1/results/{outcomes['released']['id']}", headers=token)
        assert response.status_code == 403
        assert (await api.get("/v1/results", headers=token)).status_code == 403
    assert (await api.get("/v1/results")).status_code == 401


async def test_only_the_right_roles_act(api: httpx.AsyncClient) -> None:
    records, outcomes = await _world(api)
    result = {"element_id": records.element_id, "grade": "PASS", "sampled_for_qa": False}
    assert (await api.post("/v1/results", json=result, headers=QA)).status_code == 403
    qa_path = f"/v1/results/{outcomes['in_qa']['id']}/qa"
    assert (await api.post(qa_path, json={"passed": True}, headers=ASSESSOR)).status_code == 403
    release = {"outcomes": [{"kind": "result", "id": outcomes["pending"]["id"]}], "mode": "now"}
    provider = records.external("provider")
    assert (
        await api.post("/v1/outcome-releases", json=release, headers=provider)
    ).status_code == 403
    bad = await api.post("/v1/results", json={**result, "grade": "GOOD"}, headers=ASSESSOR)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "grade"
    missing = await api.post("/v1/results", json={**result, "element_id": "nope"}, headers=ASSESSOR)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "element_id"
