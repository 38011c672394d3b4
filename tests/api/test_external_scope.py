"""One rule for external callers (decision 0071): 403 where they may read nothing of a kind,
404 for a record of a kind they may read that is absent or not theirs; never a hint of
whether a record exists."""

import uuid

import httpx
import pytest

from tests.api.outcome_flows import setup, submit_certification, submit_result
from tests.api.test_induction import school_report
from tests.support.tokens import bearer

# External callers with no scope over outcome records: the wrong role, or no organisation.
UNSCOPED = {
    "applicant": bearer("app", "applicant"),
    "school": bearer("sch", "school", org="school-1"),
    "appropriate-body": bearer("ab", "appropriate_body", org="ab-1"),
    "lead-provider": bearer("lp", "lead_provider", org="lp-1"),
    "candidate-without-org": bearer("c", "candidate"),
    "provider-without-org": bearer("p", "provider"),
    "employer-without-org": bearer("e", "employer"),
}
# External callers scoped to another organisation's records.
OTHER_ORG = {
    "candidate": bearer("c2", "candidate", org="cand-other"),
    "provider": bearer("p2", "provider", org="prov-other"),
    "employer": bearer("e2", "employer", org="emp-other"),
}
ABSENT = "00000000-0000-4000-8000-000000000000"
# Internal-only lists: every external caller is refused, scoped or not.
INTERNAL_LISTS = [
    "/v1/outcome-releases/pending",
    f"/v1/outcome-releases/batches/{ABSENT}",
    "/v1/slas",
    "/v1/reports/sla",
    "/v1/events",
]
OUTCOME_REPORTS = [
    "/v1/reports/pass-fail",
    "/v1/reports/first-time-pass",
    "/v1/reports/outcome-releases",
    "/v1/reports/result-tracking",
]


async def _records(api: httpx.AsyncClient) -> dict[str, str]:
    """One of each outcome record, as paths to read it, with an absent twin of each."""
    records = await setup(api)
    result = await submit_result(api, records.element_id, "PASS")
    cert = await submit_certification(api, records.candidate_id, "MERIT")
    return {
        "result": f"/v1/results/{result['id']}",
        "certification": f"/v1/certifications/{cert['id']}",
        "candidate": f"/v1/candidates/{records.candidate_id}",
        "provider": f"/v1/providers/{records.provider_id}",
        "element": f"/v1/elements/{records.element_id}",
        "absent result": f"/v1/results/{ABSENT}",
        "absent certification": f"/v1/certifications/{ABSENT}",
        "absent candidate": f"/v1/candidates/{ABSENT}",
        "absent provider": f"/v1/providers/{ABSENT}",
        "absent element": f"/v1/elements/{ABSENT}",
    }


async def _statuses(api: httpx.AsyncClient, paths: list[str], token: dict[str, str]) -> set[int]:
    return {(await api.get(path, headers=token)).status_code for path in paths}


@pytest.mark.parametrize("caller", UNSCOPED.values(), ids=UNSCOPED.keys())
async def test_an_external_caller_without_outcome_scope_gets_403_everywhere(
    api: httpx.AsyncClient, caller: dict[str, str]
) -> None:
    details = list((await _records(api)).values())
    lists = ["/v1/results", "/v1/certifications", *OUTCOME_REPORTS, *INTERNAL_LISTS]

    for path in details + lists:
        response = await api.get(path, headers=caller)
        assert response.status_code == 403, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("caller", OTHER_ORG.values(), ids=OTHER_ORG.keys())
async def test_an_external_caller_of_another_org_gets_404_whether_or_not_it_exists(
    api: httpx.AsyncClient, caller: dict[str, str]
) -> None:
    details = list((await _records(api)).values())

    assert await _statuses(api, details, caller) == {404}
    for path in ["/v1/results", "/v1/certifications", *OUTCOME_REPORTS]:
        response = await api.get(path, headers=caller)
        assert (response.status_code, response.json()["items"]) == (200, []), path
    assert await _statuses(api, INTERNAL_LISTS, caller) == {403}


@pytest.mark.parametrize("role", ["school", "appropriate_body"])
async def test_a_school_or_ab_without_an_org_gets_403_on_any_induction(
    api: httpx.AsyncClient, role: str
) -> None:
    trn = f"{uuid.uuid4().int % 10_000_000:07d}"
    school = bearer("sam", "school", org="school-1")
    reported = await api.post(
        f"/v1/inductions/{trn}/school-reports", json=school_report(), headers=school
    )
    assert reported.status_code == 201, reported.text
    no_org = bearer("x", role)
    stranger = bearer("y", role, org="someone-else")

    assert await _statuses(api, [f"/v1/inductions/{trn}", "/v1/inductions/0000000"], no_org) == {
        403
    }
    assert await _statuses(api, [f"/v1/inductions/{trn}", "/v1/inductions/0000000"], stranger) == {
        404
    }
