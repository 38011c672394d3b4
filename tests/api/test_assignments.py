"""Assignments over HTTP: rows per grant, claims, races, assigners, grants, withdrawal, access."""

import asyncio

import httpx

from tests.api.flows import ready_draft
from tests.api.review_flows import (
    ASSIGNER,
    ELEMENTS,
    SECTIONS,
    TWO_LEVELS,
    add_reviewer,
    approve,
    decide,
    get_review,
    grant,
    reviewer,
    row_of,
    rows,
    self_assign,
    set_grants,
    start_review,
    submit_review,
    submitted_case,
    take_and_start,
    targets,
)
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")


async def test_submission_opens_one_available_row_per_granted_user(
    api: httpx.AsyncClient,
) -> None:
    await add_reviewer(api, "rev-3", grant(level=2))
    await add_reviewer(api, "rev-4", grant(sections=["personal"]))

    application_id = await submitted_case(api, ALICE, reviewers=("rev-1", "rev-2"))

    found = await rows(api, application_id)
    assert [{k: v for k, v in r.items() if k != "id"} for r in found] == [
        {
            "application_id": application_id,
            "stage": "assessment",
            "level": 1,
            "reviewer_id": reviewer_id,
            "assigner_id": None,
            "status": "AVAILABLE",
            "allowed_sections": allowed,
            "available_sections": available,
            "assigned_sections": [],
            "is_self_assignable": True,
            "is_last_level": True,
            "is_last_stage": True,
            "is_final_decision": False,
            "review_id": None,
            "review_status": None,
        }
        for reviewer_id, allowed, available in [
            ("rev-1", None, SECTIONS),
            ("rev-2", None, SECTIONS),
            ("rev-4", ["personal"], ["personal"]),
        ]
    ]
    assert len({r["id"] for r in found}) == 3


async def test_two_reviewers_racing_for_one_section_one_wins(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(
        api, ALICE, stages=TWO_LEVELS, reviewers=("rev-1", "rev-2")
    )
    first = await row_of(api, application_id, "rev-1")
    second = await row_of(api, application_id, "rev-2")

    answers = await asyncio.gather(
        self_assign(api, first["id"], "rev-1", ["personal"]),
        self_assign(api, second["id"], "rev-2", ["personal"]),
    )

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    winner, loser = ("rev-1", "rev-2") if answers[0].status_code == 200 else ("rev-2", "rev-1")
    won = await row_of(api, application_id, winner)
    lost = await row_of(api, application_id, loser)
    assert (won["status"], won["assigned_sections"]) == ("ASSIGNED", ["personal"])
    assert won["available_sections"] == SECTIONS
    assert (lost["status"], lost["assigned_sections"]) == ("AVAILABLE", [])
    assert lost["available_sections"] == ["qualifications"]
    assert (await self_assign(api, lost["id"], loser, ["personal"])).status_code == 409
    rest = await self_assign(api, lost["id"], loser, ["qualifications"])
    assert rest.status_code == 200, rest.text
    assert rest.json()["assigned_sections"] == ["qualifications"]
    assert (await self_assign(api, lost["id"], loser)).status_code == 409


async def test_a_single_level_stage_is_taken_whole_and_a_claim_on_nothing_is_refused(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE, reviewers=("rev-1", "rev-2"))
    first = await row_of(api, application_id, "rev-1")
    second = await row_of(api, application_id, "rev-2")

    partial = await self_assign(api, first["id"], "rev-1", ["personal"])
    whole = await self_assign(api, first["id"], "rev-1")
    nothing_left = await self_assign(api, second["id"], "rev-2")

    assert partial.status_code == 409
    assert partial.headers["content-type"] == "application/problem+json"
    assert whole.status_code == 200, whole.text
    assert (whole.json()["status"], whole.json()["assigned_sections"]) == ("ASSIGNED", SECTIONS)
    assert whole.json()["assigner_id"] == "rev-1"
    assert nothing_left.status_code == 409
    assert (await row_of(api, application_id, "rev-2"))["available_sections"] == []
    assert (await self_assign(api, first["id"], "rev-1")).status_code == 409
    unknown = await self_assign(api, second["id"], "rev-2", ["hobbies"])
    assert unknown.status_code == 422


async def test_assigner_assigns_unassigns_and_reassigns_a_reviewer(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE)
    row = await row_of(api, application_id, "rev-1")
    url = f"/v1/assignments/{row['id']}"

    not_an_assigner = await api.post(
        f"{url}/assign", json={"sections": SECTIONS}, headers=reviewer("rev-1")
    )
    assigned = await api.post(f"{url}/assign", json={"sections": SECTIONS}, headers=ASSIGNER)

    assert not_an_assigner.status_code == 403
    assert assigned.status_code == 200, assigned.text
    body = assigned.json()
    assert (body["status"], body["reviewer_id"], body["assigner_id"]) == (
        "ASSIGNED",
        "rev-1",
        "asg-1",
    )
    assert body["assigned_sections"] == SECTIONS
    started = await start_review(api, row["id"], "rev-1")
    assert started.status_code == 201, started.text
    review_id = started.json()["review_id"]
    assert (await api.post(f"{url}/unassign", headers=reviewer("rev-1"))).status_code == 403

    unassigned = await api.post(f"{url}/unassign", headers=ASSIGNER)

    assert unassigned.status_code == 200, unassigned.text
    shown = await row_of(api, application_id, "rev-1")
    assert (shown["status"], shown["assigned_sections"], shown["available_sections"]) == (
        "AVAILABLE",
        [],
        SECTIONS,
    )
    assert shown["review_status"] == "DISCONTINUED"
    assert (await get_review(api, review_id))["status"] == "DISCONTINUED"
    assert (await start_review(api, row["id"], "rev-1")).status_code == 409

    again = await api.post(f"{url}/assign", json={"sections": SECTIONS}, headers=ASSIGNER)

    assert again.status_code == 200, again.text
    assert again.json()["review_id"] == review_id
    assert (await get_review(api, review_id))["status"] == "DRAFT"
    assert (await targets(api, review_id)).keys() == {
        "birth_date",
        "degree",
        "email",
        "full_name",
        "years",
    }


async def test_review_grants_follow_patch_of_users(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE)
    await add_reviewer(api, "rev-2")
    assert [r["reviewer_id"] for r in await rows(api, application_id)] == ["rev-1"]

    await set_grants(api, "rev-2", grant())

    added = await row_of(api, application_id, "rev-2")
    assert (added["status"], added["allowed_sections"], added["available_sections"]) == (
        "AVAILABLE",
        None,
        SECTIONS,
    )
    await set_grants(api, "rev-2", grant(sections=["personal"]))
    limited = await row_of(api, application_id, "rev-2")
    assert (limited["allowed_sections"], limited["available_sections"]) == (
        ["personal"],
        ["personal"],
    )

    await set_grants(api, "rev-2")

    assert [r["reviewer_id"] for r in await rows(api, application_id)] == ["rev-1"]
    history = await api.get(f"/v1/applications/{application_id}/history", headers=ASSIGNER)
    assert "assignments_synced" in [e["action"] for e in history.json()["items"]]


async def test_a_user_created_with_grants_gets_rows_in_open_cases_as_a_patch_would(
    api: httpx.AsyncClient,
) -> None:
    at_level_one = await submitted_case(api, ALICE, stages=TWO_LEVELS)
    at_level_two = await ready_draft(api, ALICE, publish=False)
    submitted = await api.post(f"/v1/applications/{at_level_two}/submit", headers=ALICE)
    assert submitted.status_code == 200, submitted.text
    _, lower = await take_and_start(api, at_level_two)
    await approve(api, lower, ELEMENTS)
    assert (await submit_review(api, lower, None)).status_code == 200

    await add_reviewer(api, "late-1", grant(sections=["personal"]), grant(level=2))

    first = await row_of(api, at_level_one, "late-1")
    assert (first["level"], first["status"], first["allowed_sections"]) == (
        1,
        "AVAILABLE",
        ["personal"],
    )
    assert first["available_sections"] == ["personal"]
    second = await row_of(api, at_level_two, "late-1")
    assert (second["level"], second["status"], second["available_sections"]) == (
        2,
        "AVAILABLE",
        SECTIONS,
    )
    for application_id in (at_level_one, at_level_two):
        history = await api.get(f"/v1/applications/{application_id}/history", headers=ASSIGNER)
        assert "assignments_synced" in [e["action"] for e in history.json()["items"]]


async def test_reviewers_created_at_once_on_one_open_case_each_get_their_row(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE)
    late = [f"late-{n}" for n in range(8)]

    await asyncio.gather(*(add_reviewer(api, user_id, grant()) for user_id in late))

    opened = {r["reviewer_id"]: r["status"] for r in await rows(api, application_id)}
    assert opened == {"rev-1": "AVAILABLE", **dict.fromkeys(late, "AVAILABLE")}


async def test_revoking_a_taken_grant_keeps_the_reviewers_row(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE)
    await take_and_start(api, application_id)

    await set_grants(api, "rev-1")

    kept = await row_of(api, application_id, "rev-1")
    assert (kept["status"], kept["assigned_sections"]) == ("ASSIGNED", SECTIONS)


async def test_withdrawing_under_review_ends_assignments_and_discontinues_the_review(
    api: httpx.AsyncClient,
) -> None:
    application_id = await submitted_case(api, ALICE, reviewers=("rev-1", "rev-2"))
    _, review_id = await take_and_start(api, application_id)

    withdrawn = await api.post(f"/v1/applications/{application_id}/withdraw", headers=ALICE)

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "WITHDRAWN"
    assert await rows(api, application_id) == []
    assert (await get_review(api, review_id))["status"] == "DISCONTINUED"


async def test_applicants_cannot_touch_assignments_or_reviews(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE)
    row = await row_of(api, application_id, "rev-1")
    assignment_id, review_id = await take_and_start(api, application_id)
    target = (await targets(api, review_id))["email"]

    answers = [
        await api.get(f"/v1/applications/{application_id}/assignments", headers=ALICE),
        await api.post(f"/v1/assignments/{assignment_id}/self-assign", headers=ALICE),
        await api.post(f"/v1/assignments/{assignment_id}/assign", json={}, headers=ALICE),
        await api.post(f"/v1/assignments/{assignment_id}/unassign", headers=ALICE),
        await api.post(f"/v1/assignments/{assignment_id}/reviews", headers=ALICE),
        await api.get(f"/v1/reviews/{review_id}", headers=ALICE),
        await api.put(
            f"/v1/reviews/{review_id}/responses/{target}",
            json={"decision": "APPROVE"},
            headers=ALICE,
        ),
        await api.post(f"/v1/reviews/{review_id}/submit", json={}, headers=ALICE),
    ]

    assert [a.status_code for a in answers] == [403] * len(answers)
    assert row["id"] == assignment_id
    assert (await get_review(api, review_id))["missing"] != []


async def test_a_reviewer_cannot_work_on_another_reviewers_row(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE, reviewers=("rev-1", "rev-2"))
    assignment_id, review_id = await take_and_start(api, application_id)
    target = (await targets(api, review_id))["email"]
    intruder = reviewer("rev-2")

    answers = [
        await api.post(f"/v1/assignments/{assignment_id}/reviews", headers=intruder),
        await api.post(f"/v1/assignments/{assignment_id}/self-assign", headers=intruder),
        await api.put(
            f"/v1/reviews/{review_id}/responses/{target}",
            json={"decision": "APPROVE"},
            headers=intruder,
        ),
        await api.post(f"/v1/reviews/{review_id}/submit", json={}, headers=intruder),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403], [a.text for a in answers]
    shown = await get_review(api, review_id)
    assert (shown["status"], len(shown["missing"])) == ("DRAFT", 5)


async def test_restarting_a_draft_review_returns_it_unchanged(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE)
    assignment_id, review_id = await take_and_start(api, application_id)
    await decide(api, review_id, (await targets(api, review_id))["email"], decision="APPROVE")

    again = await start_review(api, assignment_id, "rev-1")

    assert again.status_code == 200, again.text
    assert again.json() == {"review_id": review_id, "status": "DRAFT"}
    shown = await get_review(api, review_id)
    assert {r["element_code"]: r["decision"] for r in shown["responses"]} == {
        "birth_date": None,
        "degree": None,
        "email": "APPROVE",
        "full_name": None,
        "years": None,
    }
    assert (await row_of(api, application_id, "rev-1"))["review_id"] == review_id


async def test_acting_on_a_completed_application_is_409_not_503(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE, reviewers=("rev-1", "rev-2"))
    other = await row_of(api, application_id, "rev-2")
    assignment_id, review_id = await take_and_start(api, application_id)
    await approve(api, review_id, ELEMENTS)
    assert (await submit_review(api, review_id, "CONFORM")).status_code == 200

    answers = [
        await submit_review(api, review_id, "CONFORM"),
        await self_assign(api, other["id"], "rev-2"),
        await start_review(api, assignment_id, "rev-1"),
        await api.post(f"/v1/assignments/{assignment_id}/unassign", headers=ASSIGNER),
    ]

    assert [a.status_code for a in answers] == [409, 409, 409, 409], [a.text for a in answers]


async def test_an_unrelated_grant_change_leaves_other_rows_alone(api: httpx.AsyncClient) -> None:
    await add_reviewer(api, "rev-5", grant(sections=["qualifications", "personal", "hobbies"]))
    application_id = await submitted_case(api, ALICE)
    opened = await row_of(api, application_id, "rev-5")
    assert opened["allowed_sections"] == SECTIONS

    await add_reviewer(api, "rev-6")
    await set_grants(api, "rev-6", grant())

    assert (await row_of(api, application_id, "rev-5"))["allowed_sections"] == SECTIONS
