"""The level-1 review cycle over HTTP: decisions, submission, LOQ and resubmission."""

from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine

from tests.api.review_flows import (
    ELEMENTS,
    JSON,
    TWO_LEVELS,
    add_reviewer,
    answer,
    approve,
    decide,
    decline,
    get_application,
    get_assessment,
    get_review,
    grant,
    history_actions,
    row_of,
    rows,
    sent_back,
    start_review,
    submit_review,
    submitted_case,
    take_and_start,
    versions_per_element,
)
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")
BOB = bearer("bob", "applicant")
TWO_STAGES: list[JSON] = [
    {"code": "assessment", "name": "Assessment", "levels": 1},
    {"code": "interview", "name": "Interview", "levels": 1},
]


async def test_all_approved_allows_only_conform_which_completes_approved(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ELEMENTS)

    shown = await get_review(api, review_id)
    submitted = await submit_review(api, review_id, "CONFORM")

    assert shown["allowed_decisions"] == ["CONFORM"]
    assert shown["can_submit"] is True
    assert shown["missing"] == []
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["review_status"] == "SUBMITTED"
    assert submitted.json()["application_status"] == "COMPLETED"
    application = await get_application(api, application_id, ALICE)
    assert (application["status"], application["outcome"]) == ("COMPLETED", "APPROVED")
    assessment = await get_assessment(api, application_id)
    assert assessment["status"] == "COMPLETED"
    assert [
        (s["code"], s["passed"], s["selected_failure_reasons"]) for s in assessment["sections"]
    ] == [
        ("personal", True, []),
        ("qualifications", True, []),
    ]
    assert await history_actions(api, application_id) == [
        "created",
        "submitted",
        "level_reached",
        "self_assigned",
        "review_started",
        "review_submitted",
        "completed",
    ]
    assert await rows(api, application_id) == []
    assert (await get_review(api, review_id))["status"] == "SUBMITTED"


async def test_conform_on_the_first_of_two_stages_opens_the_second(
    api: httpx.AsyncClient,
) -> None:
    await add_reviewer(api, "rev-2", grant("interview"))
    application_id = await submitted_case(api, ALICE, stages=TWO_STAGES)
    first_row = await row_of(api, application_id, "rev-1")
    assert first_row["is_last_stage"] is False
    _, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ELEMENTS)

    submitted = await submit_review(api, review_id, "CONFORM")

    assert submitted.status_code == 200, submitted.text
    assert (submitted.json()["application_status"], submitted.json()["stage"]) == (
        "SUBMITTED",
        "interview",
    )
    application = await get_application(api, application_id, ALICE)
    assert (application["status"], application["stage"], application["outcome"]) == (
        "SUBMITTED",
        "interview",
        None,
    )
    opened = await rows(api, application_id)
    assert [(r["reviewer_id"], r["stage"], r["level"], r["status"]) for r in opened] == [
        ("rev-2", "interview", 1, "AVAILABLE")
    ]
    assert opened[0]["available_sections"] == ["personal", "qualifications"]
    assert opened[0]["is_last_stage"] is True
    assert (await get_assessment(api, application_id))["status"] == "IN_PROGRESS"
    assert "stage_entered" in await history_actions(api, application_id)


async def test_a_further_information_decline_allows_loq_or_non_conform_only(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    await decline(api, review_id, "full_name", "id_mismatch", comment="Name differs")

    shown = await get_review(api, review_id)
    refused = await submit_review(api, review_id, "CONFORM")

    assert shown["allowed_decisions"] == ["LIST_OF_QUESTIONS", "NON_CONFORM"]
    assert shown["can_submit"] is True
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["allowed"] == ["LIST_OF_QUESTIONS", "NON_CONFORM"]
    assert (await get_review(api, review_id))["status"] == "DRAFT"
    assert (await get_application(api, application_id, ALICE))["status"] == "SUBMITTED"

    rejected = await submit_review(api, review_id, "NON_CONFORM")

    assert rejected.status_code == 200, rejected.text
    application = await get_application(api, application_id, ALICE)
    assert (application["status"], application["outcome"]) == ("COMPLETED", "REJECTED")
    kept = (await get_review(api, review_id))["responses"]
    assert [(r["element_code"], r["decision"]) for r in kept] == [("full_name", "DECLINE")]
    personal = (await get_assessment(api, application_id))["sections"][0]
    assert (personal["passed"], personal["selected_failure_reasons"]) == (False, ["id_mismatch"])


async def test_a_decline_kind_reason_allows_only_non_conform(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ["birth_date", "degree", "email", "years"])
    await decline(api, review_id, "full_name", "fraud")

    shown = await get_review(api, review_id)
    refused = await submit_review(api, review_id, "LIST_OF_QUESTIONS")

    assert shown["allowed_decisions"] == ["NON_CONFORM"]
    assert refused.status_code == 409
    assert refused.json()["allowed"] == ["NON_CONFORM"]


async def test_level_one_of_a_two_level_stage_submits_without_a_decision(
    api: httpx.AsyncClient,
) -> None:
    await add_reviewer(api, "con-1", grant(level=2))
    application_id = await submitted_case(api, ALICE, stages=TWO_LEVELS)
    _, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ELEMENTS)

    shown = await get_review(api, review_id)
    with_decision = await submit_review(api, review_id, "CONFORM")
    submitted = await submit_review(api, review_id, None)

    assert (shown["allowed_decisions"], shown["can_submit"], shown["is_last_level"]) == (
        [],
        True,
        False,
    )
    assert with_decision.status_code == 409
    assert with_decision.json()["allowed"] == []
    assert submitted.status_code == 200, submitted.text
    assert (submitted.json()["application_status"], submitted.json()["level"]) == ("SUBMITTED", 2)
    assert (await get_review(api, review_id))["status"] == "SUBMITTED"
    opened = [(r["reviewer_id"], r["level"], r["status"]) for r in await rows(api, application_id)]
    assert opened == [("rev-1", 1, "ASSIGNED"), ("con-1", 2, "AVAILABLE")]


async def test_allowed_decisions_tell_the_truth_when_no_decline_is_visible(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    await decline(api, review_id, "full_name", "id_mismatch", comment="internal", visible=False)

    listed = "LIST_OF_QUESTIONS" in (await get_review(api, review_id))["allowed_decisions"]
    answer_code = (await submit_review(api, review_id, "LIST_OF_QUESTIONS")).status_code

    assert answer_code == (200 if listed else 409)


async def test_undecided_and_invalid_decisions_are_refused(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    answers = {
        r["element_code"]: r["response_id"]
        for r in (await get_application(api, application_id, ALICE))["responses"]
    }

    shown = await get_review(api, review_id)

    assert shown["can_submit"] is False
    assert shown["allowed_decisions"] == []
    assert sorted(shown["missing"]) == sorted(answers.values())
    assert {r["element_code"]: r["target_id"] for r in shown["responses"]} == answers
    assert {r["decision"] for r in shown["responses"]} == {None}
    early = await submit_review(api, review_id, "CONFORM")
    assert early.status_code == 409
    assert early.json()["allowed"] == []
    cases: list[tuple[JSON, str]] = [
        ({"decision": "DECLINE"}, "failure_reason"),
        ({"decision": "DECLINE", "failure_reason": "no_degree"}, "failure_reason"),
        ({"decision": "DECLINE", "failure_reason": "nonsense"}, "failure_reason"),
        ({"decision": "APPROVE", "failure_reason": "id_mismatch"}, "failure_reason"),
        ({"decision": "AGREE"}, "decision"),
    ]
    for body, field in cases:
        refused = await decide(api, review_id, answers["full_name"], **body)
        assert refused.status_code == 422, (body, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == [field], body
    assert (await decide(api, review_id, "no-such-target", decision="APPROVE")).status_code == 404
    assert (await get_review(api, review_id))["missing"] == shown["missing"]

    await approve(api, review_id, ELEMENTS)
    assert (await submit_review(api, review_id, "CONFORM")).status_code == 200
    late = await decide(
        api, review_id, answers["full_name"], decision="DECLINE", failure_reason="id_mismatch"
    )

    assert late.status_code == 409
    assert (await get_review(api, review_id))["responses"][0]["decision"] == "APPROVE"


async def test_list_of_questions_sends_back_only_visible_declines(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE)
    _, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ["degree", "email", "years"])
    await decline(api, review_id, "full_name", "id_mismatch", comment="Name differs from ID")
    await decline(api, review_id, "birth_date", "id_mismatch", comment="internal", visible=False)
    before = await get_application(api, application_id, ALICE)

    submitted = await submit_review(api, review_id, "LIST_OF_QUESTIONS")

    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["application_status"] == "CHANGES_REQUIRED"
    application = await get_application(api, application_id, ALICE)
    assert application["status"] == "CHANGES_REQUIRED"
    full_name = next(r for r in before["responses"] if r["element_code"] == "full_name")
    assert application["questions"] == [
        {
            "element_code": "full_name",
            "response_id": full_name["response_id"],
            "comment": "Name differs from ID",
            "failure_reason": "id_mismatch",
        }
    ]
    review = await get_review(api, review_id)
    deadline = datetime.fromisoformat(application["loq_deadline_at"])
    assert deadline - datetime.fromisoformat(review["time_submitted"]) == timedelta(days=42)
    visibility = {
        r["element_code"]: (r["recommended_applicant_visibility"], r["is_visible_to_applicant"])
        for r in review["responses"]
    }
    assert visibility["full_name"] == (True, True)
    assert visibility["birth_date"] == (False, False)
    assert visibility["degree"] == (True, False)
    assert (await get_assessment(api, application_id))["status"] == "AWAITING_INFORMATION"
    assert "loq_sent" in await history_actions(api, application_id)
    assert (await api.get(f"/v1/applications/{application_id}", headers=BOB)).status_code == 404


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param([], id="untouched"),
        pytest.param(["Ada Lovelace"], id="same-value-put-again"),
        pytest.param(["Augusta", "Ada Lovelace"], id="changed-then-changed-back"),
    ],
)
async def test_resubmitting_without_changing_a_sent_back_answer_is_409(
    api: httpx.AsyncClient, db: Engine, edits: list[str]
) -> None:
    application_id, _, _ = await sent_back(api, ALICE)
    for value in edits:
        await answer(api, ALICE, application_id, "full_name", value)

    refused = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].endswith("unchanged: full_name")
    application = await get_application(api, application_id, ALICE)
    assert application["status"] == "CHANGES_REQUIRED"
    assert [q["element_code"] for q in application["questions"]] == ["full_name"]
    assert versions_per_element(db, application_id)["full_name"] == 1


async def test_a_refused_resubmission_does_not_block_the_next_one(
    api: httpx.AsyncClient,
) -> None:
    application_id, _, _ = await sent_back(api, ALICE)
    submit_url = f"/v1/applications/{application_id}/submit"
    assert (await api.post(submit_url, headers=ALICE)).status_code == 409

    await answer(api, ALICE, application_id, "full_name", "Augusta Ada King")
    resubmitted = await api.post(submit_url, headers=ALICE)

    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "SUBMITTED"


async def test_resubmission_re_reviews_only_the_changed_answer(
    api: httpx.AsyncClient, db: Engine
) -> None:
    application_id, assignment_id, review_id = await sent_back(api, ALICE)
    before = {
        r["element_code"]: r["response_id"]
        for r in (await get_application(api, application_id, ALICE))["responses"]
    }
    for value in ("Ada Lovelace", "Augusta", "Ada Lovelace", "Augusta Ada King"):
        await answer(api, ALICE, application_id, "full_name", value)

    resubmitted = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "SUBMITTED"
    application = await get_application(api, application_id, ALICE)
    latest = {r["element_code"]: r for r in application["responses"]}
    assert latest["full_name"]["value"] == "Augusta Ada King"
    assert latest["full_name"]["response_id"] != before["full_name"]
    assert {e: r["response_id"] for e, r in latest.items() if e != "full_name"} == {
        e: rid for e, rid in before.items() if e != "full_name"
    }
    assert (application["questions"], application["loq_deadline_at"]) == ([], None)
    assert (await get_review(api, review_id))["status"] == "PENDING"
    assert (await row_of(api, application_id, "rev-1"))["review_status"] == "PENDING"
    assert (await get_assessment(api, application_id))["status"] == "IN_PROGRESS"

    restarted = await start_review(api, assignment_id, "rev-1")

    assert restarted.status_code == 200, restarted.text
    assert restarted.json() == {"review_id": review_id, "status": "DRAFT"}
    shown = await get_review(api, review_id)
    assert shown["missing"] == [latest["full_name"]["response_id"]]
    assert {r["element_code"]: r["decision"] for r in shown["responses"]} == {
        "birth_date": "APPROVE",
        "degree": "APPROVE",
        "email": "APPROVE",
        "full_name": None,
        "years": "APPROVE",
    }
    assert {r["element_code"]: r["target_id"] for r in shown["responses"]} == {
        e: r["response_id"] for e, r in latest.items()
    }
    await approve(api, review_id, ["full_name"])
    assert (await get_review(api, review_id))["allowed_decisions"] == ["CONFORM"]
    assert (await submit_review(api, review_id, "CONFORM")).status_code == 200
    done = await get_application(api, application_id, ALICE)
    assert (done["status"], done["outcome"]) == ("COMPLETED", "APPROVED")
    assert versions_per_element(db, application_id) == {
        "birth_date": 1,
        "degree": 1,
        "email": 1,
        "full_name": 2,
        "years": 1,
    }
