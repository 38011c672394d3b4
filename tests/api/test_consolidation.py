"""Levels above 1 over HTTP: consolidation, changes requested, split sections, stages."""

import httpx
from temporalio.testing import WorkflowEnvironment

from core import temporal as keys
from tests.api.review_flows import (
    ELEMENTS,
    JSON,
    add_reviewer,
    approve,
    decide,
    decline,
    get_application,
    get_assessment,
    get_review,
    grant,
    history_actions,
    row_of,
    self_assign,
    start_review,
    submit_review,
    submitted_case,
    take_and_start,
    targets,
)
from tests.support.builders import make_template
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")
TWO_LEVELS: list[JSON] = [{"code": "assessment", "name": "Assessment", "levels": 2}]
PERSONAL = ["birth_date", "email", "full_name"]
QUALIFICATIONS = ["degree", "years"]


async def _agree_all(api: httpx.AsyncClient, review_id: str, reviewer_id: str) -> None:
    for target in (await targets(api, review_id, reviewer_id)).values():
        answer = await decide(api, review_id, target, reviewer_id, decision="AGREE")
        assert answer.status_code == 200, answer.text


async def test_disagreement_sends_work_back_then_an_agreed_decline_allows_loq_or_rejection(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE, stages=TWO_LEVELS)
    await add_reviewer(api, "con-1", grant(level=2))
    _, first = await take_and_start(api, application_id, "rev-1")
    await approve(api, first, ["birth_date", "email", "degree", "years"])
    await decline(api, first, "full_name", "id_mismatch", comment="Name differs from passport")
    assert (await get_review(api, first))["allowed_decisions"] == []
    assert (await submit_review(api, first, None)).status_code == 200

    assignment_id, second = await take_and_start(api, application_id, "con-1")
    shown = await get_review(api, second, "con-1")
    assert sorted(r["element_code"] for r in shown["responses"]) == ELEMENTS
    found = await targets(api, second, "con-1")
    for element, target in found.items():
        decision = "DISAGREE" if element == "years" else "AGREE"
        await decide(api, second, target, "con-1", decision=decision, comment="check")
    assert (await get_review(api, second, "con-1"))["allowed_decisions"] == ["CHANGES_REQUESTED"]
    assert (await submit_review(api, second, "CHANGES_REQUESTED", "con-1")).status_code == 200

    assert (await get_review(api, first))["status"] == "CHANGES_REQUESTED"
    restarted = await start_review(api, (await row_of(api, application_id, "rev-1"))["id"], "rev-1")
    assert (restarted.status_code, restarted.json()["review_id"]) == (200, first)
    unchanged = await submit_review(api, first, None)
    assert unchanged.status_code == 409
    assert "years" in unchanged.json()["detail"]
    years = (await targets(api, first))["years"]
    await decide(api, first, years, decision="APPROVE", comment="Checked the payslips again")
    assert (await submit_review(api, first, None)).status_code == 200

    assert (await get_review(api, second, "con-1"))["status"] == "PENDING"
    again = await start_review(api, assignment_id, "con-1")
    assert (again.status_code, again.json()["review_id"]) == (200, second)
    missing = (await get_review(api, second, "con-1"))["missing"]
    assert missing == [(await targets(api, second, "con-1"))["years"]]
    await decide(api, second, missing[0], "con-1", decision="AGREE")
    ready = await get_review(api, second, "con-1")
    assert ready["allowed_decisions"] == ["LIST_OF_QUESTIONS", "NON_CONFORM"]
    refused = await submit_review(api, second, "CONFORM", "con-1")
    assert (refused.status_code, refused.json()["allowed"]) == (
        409,
        ["LIST_OF_QUESTIONS", "NON_CONFORM"],
    )
    assert (await submit_review(api, second, "NON_CONFORM", "con-1")).status_code == 200

    shown_app = await get_application(api, application_id, ALICE)
    assert (shown_app["status"], shown_app["outcome"]) == ("COMPLETED", "REJECTED")
    assert "changes_requested" in await history_actions(api, application_id)


async def test_consolidation_waits_for_every_split_section(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(
        api, ALICE, stages=TWO_LEVELS, reviewers=("rev-1", "rev-2")
    )
    await add_reviewer(api, "con-1", grant(level=2))
    for reviewer_id, sections in (("rev-1", ["personal"]), ("rev-2", ["qualifications"])):
        row = await row_of(api, application_id, reviewer_id)
        assert (await self_assign(api, row["id"], reviewer_id, sections)).status_code == 200
    first = await start_review(api, (await row_of(api, application_id, "rev-1"))["id"], "rev-1")
    first_id = first.json()["review_id"]
    await approve(api, first_id, PERSONAL, "rev-1")
    assert (await submit_review(api, first_id, None, "rev-1")).status_code == 200

    _, consolidation = await take_and_start(api, application_id, "con-1")
    assert sorted(await targets(api, consolidation, "con-1")) == PERSONAL
    await _agree_all(api, consolidation, "con-1")
    early = await submit_review(api, consolidation, "CONFORM", "con-1")
    assert early.status_code == 409
    assert "missing: qualifications" in early.json()["detail"]

    second = await start_review(api, (await row_of(api, application_id, "rev-2"))["id"], "rev-2")
    second_id = second.json()["review_id"]
    await approve(api, second_id, QUALIFICATIONS, "rev-2")
    assert (await submit_review(api, second_id, None, "rev-2")).status_code == 200

    shown = await get_review(api, consolidation, "con-1")
    assert sorted(r["element_code"] for r in shown["responses"]) == ELEMENTS
    assert len(shown["missing"]) == len(QUALIFICATIONS)
    await _agree_all(api, consolidation, "con-1")
    assert (await get_review(api, consolidation, "con-1"))["allowed_decisions"] == ["CONFORM"]
    assert (await submit_review(api, consolidation, "CONFORM", "con-1")).status_code == 200
    assert (await get_application(api, application_id, ALICE))["outcome"] == "APPROVED"


async def test_a_consolidation_waiting_for_a_draft_below_offers_nothing_and_names_it(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(
        api, ALICE, stages=TWO_LEVELS, reviewers=("rev-1", "rev-2")
    )
    await add_reviewer(api, "con-1", grant(level=2))
    for reviewer_id, sections in (("rev-1", ["personal"]), ("rev-2", ["qualifications"])):
        row = await row_of(api, application_id, reviewer_id)
        assert (await self_assign(api, row["id"], reviewer_id, sections)).status_code == 200
    started = await start_review(api, (await row_of(api, application_id, "rev-1"))["id"], "rev-1")
    first = started.json()["review_id"]
    await approve(api, first, PERSONAL, "rev-1")
    assert (await submit_review(api, first, None, "rev-1")).status_code == 200
    second = await start_review(api, (await row_of(api, application_id, "rev-2"))["id"], "rev-2")
    draft_below = second.json()["review_id"]
    await approve(api, draft_below, QUALIFICATIONS, "rev-2")  # decided, but still a draft

    _, consolidation = await take_and_start(api, application_id, "con-1")
    await _agree_all(api, consolidation, "con-1")
    shown = await get_review(api, consolidation, "con-1")
    assert (shown["allowed_decisions"], shown["can_submit"]) == ([], False)
    assert (shown["missing"], shown["missing_sections"]) == (["qualifications"], ["qualifications"])
    refused = await submit_review(api, consolidation, "CONFORM", "con-1")
    assert (refused.status_code, refused.json()["allowed"]) == (409, [])
    assert "missing: qualifications" in refused.json()["detail"]

    assert (await submit_review(api, draft_below, None, "rev-2")).status_code == 200
    shown = await get_review(api, consolidation, "con-1")
    assert (shown["allowed_decisions"], shown["can_submit"]) == ([], False)
    assert (len(shown["missing"]), shown["missing_sections"]) == (len(QUALIFICATIONS), [])
    await _agree_all(api, consolidation, "con-1")
    ready = await get_review(api, consolidation, "con-1")
    assert (ready["allowed_decisions"], ready["can_submit"], ready["missing"]) == (
        ["CONFORM"],
        True,
        [],
    )


THREE_STAGES: list[JSON] = [
    {"code": "screening", "name": "Screening", "levels": 1, "pre_assessment": True},
    {"code": "assessment", "name": "Assessment", "levels": 2},
    {
        "code": "decision",
        "name": "Final decision",
        "levels": 1,
        "final_decision": True,
        "self_assignable": False,
    },
]


async def test_screening_then_two_levels_then_a_final_decision_ends_approved(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    sections = make_template()["sections"]
    sections[0] = {**sections[0], "preliminary": True}
    for user_id, stage, level in (
        ("scr-1", "screening", 1),
        ("rev-1", "assessment", 1),
        ("con-1", "assessment", 2),
        ("fin-1", "decision", 1),
    ):
        await add_reviewer(api, user_id, grant(stage, level))
    await api.post(
        "/v1/templates",
        json=make_template(sections=sections, stages=THREE_STAGES),
        headers=bearer("admin", "admin"),
    )
    application_id = await _submit(api)
    assert (await get_assessment(api, application_id))["status"] == "PRE_ASSESSMENT"

    _, screening = await take_and_start(api, application_id, "scr-1")
    assert sorted(await targets(api, screening, "scr-1")) == PERSONAL  # preliminary only
    await approve(api, screening, PERSONAL, "scr-1")
    assert (await submit_review(api, screening, "CONFORM", "scr-1")).status_code == 200
    assert (await get_assessment(api, application_id))["status"] == "NOT_STARTED"

    _, first = await take_and_start(api, application_id, "rev-1")
    assert (await get_assessment(api, application_id))["status"] == "IN_PROGRESS"
    await approve(api, first, ELEMENTS, "rev-1")
    assert (await submit_review(api, first, None, "rev-1")).status_code == 200
    _, second = await take_and_start(api, application_id, "con-1")
    await _agree_all(api, second, "con-1")
    assert (await submit_review(api, second, "CONFORM", "con-1")).status_code == 200

    final_row = await row_of(api, application_id, "fin-1")
    assert (final_row["is_final_decision"], final_row["is_self_assignable"]) == (True, True)
    assert final_row["is_last_stage"] is True
    _, final = await take_and_start(api, application_id, "fin-1")
    await approve(api, final, ELEMENTS, "fin-1")
    assert (await get_review(api, final, "fin-1"))["allowed_decisions"] == [
        "CONFORM",
        "NON_CONFORM",
    ]
    assert (await submit_review(api, final, "CONFORM", "fin-1")).status_code == 200

    shown = await get_application(api, application_id, ALICE)
    assert (shown["status"], shown["outcome"], shown["stage"]) == (
        "COMPLETED",
        "APPROVED",
        "decision",
    )
    assert (await history_actions(api, application_id)).count("stage_entered") == 2
    described = await dev_env.client.get_workflow_handle(f"application-{application_id}").describe()
    attributes = described.typed_search_attributes
    assert attributes.get(keys.STAGE) == "decision"
    assert attributes.get(keys.CASE_STATUS) == ["COMPLETED", "COMPLETED"]


async def _submit(api: httpx.AsyncClient) -> str:
    from tests.api.flows import answer_all, draft

    application_id = await draft(api, ALICE)
    await answer_all(api, ALICE, application_id)
    response = await api.post(f"/v1/applications/{application_id}/submit", headers=ALICE)
    assert response.status_code == 200, response.text
    return application_id
