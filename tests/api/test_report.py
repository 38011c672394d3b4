"""Reports through HTTP: counted on the release day, every release listed with its method,
and no unreleased grade for external users, in JSON and in CSV."""

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, text

from tests.api.outcome_flows import (
    ADMIN,
    RELEASER,
    element_for,
    release_now,
    setup,
    submit_result,
)
from tests.support.tokens import bearer

STAFF = bearer("report-reader", "assessor")


async def report(
    api: httpx.AsyncClient, name: str, headers: dict[str, str] = STAFF, /, **params: Any
) -> list[dict[str, Any]]:
    """Every row of a JSON report, following the cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await api.get(f"/v1/reports/{name}", params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["report"] == name
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def report_csv(
    api: httpx.AsyncClient, name: str, headers: dict[str, str] = STAFF, /, **params: Any
) -> list[dict[str, str]]:
    """The CSV report as dictionaries (header row checked)."""
    answer = await api.get(
        f"/v1/reports/{name}", params={**params, "format": "csv"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(answer.text)))


def backdate(db: Engine, outcome_id: str, days: int) -> date:
    """The outcome was submitted and completed `days` ago (its completion day is returned)."""
    with db.begin() as connection:
        completed = connection.execute(
            text(
                "UPDATE outcomes SET submitted_at = submitted_at - make_interval(days => :d), "
                "completed_at = completed_at - make_interval(days => :d) "
                "WHERE id = :id RETURNING completed_at"
            ),
            {"d": days, "id": outcome_id},
        ).scalar_one()
    day: date = completed.astimezone(UTC).date()
    return day


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def test_a_result_counts_on_its_release_day_and_a_pending_one_nowhere(
    api: httpx.AsyncClient, db: Engine
) -> None:
    records = await setup(api, auto_release=False)
    released = await submit_result(api, records.element_id, "PASS")
    pending = await submit_result(api, await element_for(api, records.candidate_id), "FAIL")
    completed_on = backdate(db, released["id"], days=3).isoformat()
    backdate(db, pending["id"], days=3)
    scope = {"candidate_id": records.candidate_id}

    assert await report(api, "pass-fail", **scope) == []  # nothing released yet
    assert (await release_now(api, "result", released["id"])).status_code == 200

    assert (
        await report(api, "pass-fail", **scope, **{"from": completed_on, "to": completed_on}) == []
    )
    rows = await report(api, "pass-fail", **scope, **{"from": today(), "to": today()})
    assert rows == [
        {
            "date": today(),
            "kind": "result",
            "passed": 1,
            "failed": 0,
            "void": 0,
            "total": 1,
            "pass_rate": 1.0,
        }
    ]
    assert await report(api, "pass-fail", **scope) == rows  # the pending FAIL counts nowhere
    first = await report(api, "first-time-pass", **scope, **{"from": today(), "to": today()})
    assert first == [
        {
            "date": today(),
            "kind": "result",
            "first_attempts": 1,
            "first_time_passes": 1,
            "first_time_pass_rate": 1.0,
        }
    ]


async def test_a_resit_pass_is_no_first_time_pass(api: httpx.AsyncClient) -> None:
    records = await setup(api)  # auto-release: each result is released on submission
    await submit_result(api, records.element_id, "FAIL")
    resit = await element_for(api, records.candidate_id)  # same component: a second attempt
    await submit_result(api, resit, "PASS")
    await submit_result(api, await element_for(api, records.candidate_id, "written"), "VOID")

    [pass_fail] = await report(api, "pass-fail", candidate_id=records.candidate_id)
    assert (pass_fail["passed"], pass_fail["failed"], pass_fail["void"]) == (1, 1, 1)
    assert pass_fail["pass_rate"] == 0.5
    [first] = await report(api, "first-time-pass", candidate_id=records.candidate_id)
    assert (first["first_attempts"], first["first_time_passes"]) == (1, 0)


async def test_outcome_releases_lists_each_release_with_its_method_in_json_and_csv(
    api: httpx.AsyncClient,
) -> None:
    held = await setup(api, auto_release=False)
    manual = await submit_result(api, held.element_id, "MERIT")
    assert (await release_now(api, "result", manual["id"])).status_code == 200
    auto = await setup(api)
    automatic = await submit_result(api, auto.element_id, "PASS")

    rows = await report(api, "outcome-releases", **{"from": today()})
    methods = {row["id"]: row["release_method"] for row in rows}
    assert methods[manual["id"]] == "MANUAL"
    assert methods[automatic["id"]] == "AUTOMATIC"
    [row] = [row for row in rows if row["id"] == manual["id"]]
    assert row["grade"] == "MERIT"
    assert row["provider_id"] == held.provider_id
    assert row["component"] == "practical"

    only_manual = await report(api, "outcome-releases", method="MANUAL")
    assert [row["id"] for row in only_manual] == [manual["id"]]

    exported = await report_csv(api, "outcome-releases", method="MANUAL")
    assert [(row["id"], row["release_method"], row["grade"]) for row in exported] == [
        (manual["id"], "MANUAL", "MERIT")
    ]
    every = await report_csv(api, "outcome-releases")
    assert {row["id"] for row in every} == {manual["id"], automatic["id"]}


async def test_external_result_tracking_never_holds_an_unreleased_grade(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    held = await submit_result(api, records.element_id, "FAIL")
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    scheduled = await api.patch(
        f"/v1/outcome-releases/result/{held['id']}",
        json={"mode": "scheduled", "release_at": later},
        headers=RELEASER,
    )
    assert scheduled.status_code == 200, scheduled.text
    shown = await submit_result(api, await element_for(api, records.candidate_id), "DISTINCTION")
    assert (await release_now(api, "result", shown["id"])).status_code == 200

    internal = {row["id"]: row for row in await report(api, "result-tracking")}
    assert internal[held["id"]]["grade"] == "FAIL"
    assert internal[held["id"]]["status"] == "PENDING_RELEASE"
    assert internal[held["id"]]["scheduled_release_at"] is not None

    for role in ("provider", "candidate", "employer"):
        caller = records.external(role)
        rows = {row["id"]: row for row in await report(api, "result-tracking", caller)}
        assert set(rows) == {held["id"], shown["id"]}
        hidden = rows[held["id"]]
        assert hidden["status"] == "PENDING_QA"
        assert hidden["grade"] is None
        assert hidden["completed_at"] is None
        assert hidden["scheduled_release_at"] is None
        assert hidden["available_date"] is None
        assert hidden["outcome_released"] is False
        assert rows[shown["id"]]["grade"] == "DISTINCTION"
        assert rows[shown["id"]]["outcome_released"] is True

        exported = await report_csv(api, "result-tracking", caller)
        [hidden_row] = [row for row in exported if row["id"] == held["id"]]
        assert hidden_row["grade"] == ""
        assert hidden_row["status"] == "PENDING_QA"
        assert "FAIL" not in "".join(",".join(row.values()) for row in exported)

        releases = await report(api, "outcome-releases", caller)
        assert [row["id"] for row in releases] == [shown["id"]]


async def test_external_users_see_only_their_organisations_outcomes(
    api: httpx.AsyncClient,
) -> None:
    mine = await setup(api)
    theirs = await setup(api)
    await submit_result(api, mine.element_id, "PASS")
    await submit_result(api, theirs.element_id, "FAIL")

    rows = await report(api, "pass-fail", mine.external("provider"))
    assert [(row["passed"], row["failed"]) for row in rows] == [(1, 0)]
    asked_for_theirs = await report(
        api, "outcome-releases", mine.external("employer"), provider_id=theirs.provider_id
    )
    assert asked_for_theirs == []
    everyone = await report(api, "pass-fail")
    assert [(row["passed"], row["failed"]) for row in everyone] == [(1, 1)]


async def test_csv_cells_cannot_run_as_spreadsheet_formulas(api: httpx.AsyncClient) -> None:
    provider = (await api.post("/v1/providers", json={"name": "P"}, headers=ADMIN)).json()["id"]
    candidate = await api.post(
        "/v1/candidates",
        json={
            "name": '=HYPERLINK("http://evil.example","click")',
            "provider_id": provider,
            "standard": "+ST0001",
            "cohort": "@2026",
            "status": "IN_ASSESSMENT",
        },
        headers=ADMIN,
    )
    assert candidate.status_code == 201, candidate.text
    element = await element_for(api, candidate.json()["id"], "-practical")
    await submit_result(api, element, "PASS")

    [row] = await report_csv(api, "outcome-releases")
    assert row["candidate_name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert (row["standard"], row["cohort"], row["component"]) == (
        "'+ST0001",
        "'@2026",
        "'-practical",
    )
    [json_row] = await report(api, "outcome-releases")
    assert json_row["candidate_name"].startswith("=HYPERLINK")  # JSON carries the data as is


async def test_pages_walk_every_row_once_newest_first(api: httpx.AsyncClient) -> None:
    records = await setup(api)
    ids = [
        (await submit_result(api, await element_for(api, records.candidate_id, f"c{n}")))["id"]
        for n in range(5)
    ]
    walked = await report(api, "outcome-releases", limit=2)
    assert sorted(row["id"] for row in walked) == sorted(ids)
    instants = [row["released_at"] for row in walked]
    assert instants == sorted(instants, reverse=True)
    tracked = await report(api, "result-tracking", limit=2, date_field="released")
    assert len(tracked) == 5


async def test_the_sla_report_shows_elapsed_paused_and_the_definition_version(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id)
    rows = await _sla_rows(api, result["id"], "RUNNING")
    assert rows[0]["definition"] == "result_complete_to_release"
    assert rows[0]["version"] == 1
    assert rows[0]["goal_s"] == 14 * 86400
    assert rows[0]["breached"] is False
    assert rows[0]["elapsed_s"] >= 0
    assert (await release_now(api, "result", result["id"])).status_code == 200
    [stopped] = await _sla_rows(api, result["id"], "MET")
    assert stopped["stopped_at"] is not None
    assert stopped["paused_s"] == 0
    exported = await report_csv(api, "sla", subject=result["id"])
    assert [row["status"] for row in exported] == ["MET"]


async def _sla_rows(api: httpx.AsyncClient, subject: str, status: str) -> list[dict[str, Any]]:
    for _ in range(200):  # the SLA's own workflow records each step
        rows = await report(api, "sla", definition="result_complete_to_release", subject=subject)
        if rows and rows[0]["status"] == status:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"the SLA of {subject} never became {status}")
