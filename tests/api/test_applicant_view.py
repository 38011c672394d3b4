"""The applicant's view holds only what was made visible to them (the assessment is internal)."""

from typing import Any

import httpx

from tests.api.flows import REVIEWER
from tests.api.review_flows import (
    approve,
    decline,
    submit_review,
    submitted_case,
    take_and_start,
)
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")
BOB = bearer("bob", "applicant")
JSON = dict[str, Any]
HIDDEN_COMMENT = "Internal note: the email looks like a typo"


async def _views(api: httpx.AsyncClient, application_id: str) -> tuple[JSON, list[JSON], str]:
    """The owner's application, history entries, and both bodies as text."""
    shown = await api.get(f"/v1/applications/{application_id}", headers=ALICE)
    history = await api.get(f"/v1/applications/{application_id}/history", headers=ALICE)
    assert (shown.status_code, history.status_code) == (200, 200)
    return shown.json(), history.json()["items"], shown.text + history.text


async def test_after_an_loq_the_applicant_sees_only_the_visible_question(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ["birth_date", "degree", "years"])
    await decline(api, review_id, "full_name", "id_mismatch", comment="Use your legal name")
    await decline(api, review_id, "email", "id_mismatch", comment=HIDDEN_COMMENT, visible=False)
    assert (await submit_review(api, review_id, "LIST_OF_QUESTIONS")).status_code == 200

    application, history, text = await _views(api, application_id)

    assert [(q["element_code"], q["comment"]) for q in application["questions"]] == [
        ("full_name", "Use your legal name")
    ]
    assert [e["action"] for e in history] == ["created", "submitted", "loq_sent"]
    assert history[-1]["detail"]["questions"] == ["full_name"]
    assert history[-1]["actor"] == "staff"
    for secret in (HIDDEN_COMMENT, "rev-1", "LIST_OF_QUESTIONS", review_id):
        assert secret not in text
    staff_view = await api.get(f"/v1/applications/{application_id}/history", headers=REVIEWER)
    assert "review_submitted" in [e["action"] for e in staff_view.json()["items"]]


async def test_after_non_conform_the_applicant_sees_the_outcome_not_the_reasons(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ["birth_date", "degree", "email", "years"])
    await decline(api, review_id, "full_name", "fraud", comment=HIDDEN_COMMENT, visible=False)
    assert (await submit_review(api, review_id, "NON_CONFORM")).status_code == 200

    application, history, text = await _views(api, application_id)

    assert (application["outcome"], application["outcome_reason"]) == ("REJECTED", "NON_CONFORM")
    assert application["questions"] == []
    assert [e["action"] for e in history] == ["created", "submitted", "completed"]
    assert history[-1]["detail"] == {"outcome": "REJECTED", "reason": "NON_CONFORM"}
    for secret in (HIDDEN_COMMENT, "fraud", "rev-1", review_id):
        assert secret not in text


async def test_the_assessment_is_internal_even_for_its_owner(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ["birth_date", "degree", "email", "years"])
    await decline(api, review_id, "full_name", "fraud", visible=False)
    assert (await submit_review(api, review_id, "NON_CONFORM")).status_code == 200
    url = f"/v1/applications/{application_id}/assessment"

    owner, stranger, staff = [await api.get(url, headers=h) for h in (ALICE, BOB, REVIEWER)]

    assert (owner.status_code, stranger.status_code, staff.status_code) == (403, 403, 200)
    assert owner.headers["content-type"] == "application/problem+json"
    assert "fraud" not in owner.text
    assert staff.json()["sections"][0]["selected_failure_reasons"] == ["fraud"]
