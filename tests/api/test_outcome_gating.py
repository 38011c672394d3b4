"""Resits and retakes wait until the failed result is released."""

import httpx

from tests.api.outcome_flows import ADMIN, ASSESSOR, RELEASER, release_now, setup, submit_result


async def test_a_resit_is_refused_until_the_failed_result_is_released(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    failed = await submit_result(api, records.element_id, "FAIL")
    body = {"result_id": failed["id"]}

    refused = await api.post("/v1/resits", json=body, headers=ASSESSOR)
    assert refused.status_code == 409
    assert "not been released" in refused.json()["detail"]

    assert (await release_now(api, "result", failed["id"])).status_code == 200
    booked = await api.post("/v1/resits", json=body, headers=ASSESSOR)
    assert booked.status_code == 201, booked.text
    assert booked.json()["kind"] == "resit"
    again = await api.post("/v1/resits", json=body, headers=ASSESSOR)
    assert again.status_code == 409


async def test_a_retake_puts_the_candidate_into_retake_review_only_once_released(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    failed = await submit_result(api, records.element_id, "FAIL")
    body = {"result_id": failed["id"]}

    assert (await api.post("/v1/retakes", json=body, headers=ASSESSOR)).status_code == 409
    candidate = await api.get(f"/v1/candidates/{records.candidate_id}", headers=ADMIN)
    assert candidate.json()["status"] == "IN_ASSESSMENT"

    await release_now(api, "result", failed["id"])
    booked = await api.post("/v1/retakes", json=body, headers=ASSESSOR)
    assert booked.status_code == 201, booked.text
    candidate = await api.get(f"/v1/candidates/{records.candidate_id}", headers=ADMIN)
    assert candidate.json()["status"] == "RETAKE_REVIEW"


async def test_passes_voids_and_unknown_results_cannot_be_rebooked(
    api: httpx.AsyncClient,
) -> None:
    auto = await setup(api)
    passed = await submit_result(api, auto.element_id, "PASS")
    void = await submit_result(api, auto.element_id, "VOID")
    for result_id, status in [(passed["id"], 409), (void["id"], 409), ("missing", 404)]:
        response = await api.post("/v1/resits", json={"result_id": result_id}, headers=ASSESSOR)
        assert response.status_code == status
    forbidden = await api.post("/v1/resits", json={"result_id": passed["id"]}, headers=RELEASER)
    assert forbidden.status_code == 403
