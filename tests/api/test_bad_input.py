"""Input PostgreSQL or Python cannot hold is a 422 problem naming the field, never a 500,
and nothing is written: NUL and lone surrogates, instants and days out of range, naive
times, integers beyond 64 bits, JSON answers that cannot be stored."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.flows import ADMIN, draft, publish_template
from tests.api.outcome_flows import RELEASER, setup
from tests.support.tokens import bearer

APPLICANT = bearer("applicant-1", "applicant")
STAFF = bearer("staff-1", "admin", "reviewer", "assigner", "assessor", "qa", "releaser")
SCHOOL = bearer("school-user", "school", org="school-1")
AB = bearer("ab-user", "appropriate_body", org="ab-1")
SOME_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
NUL = "%00"
YEAR_ONE_PLUS_14 = "0001-01-01T00:00:00+14:00"  # year 0 once in UTC: Python cannot hold it
TEMPLATE_SECTION = {
    "code": "s",
    "title": "S",
    "elements": [{"code": "e", "title": "E", "type": "text"}],
}


def assert_problem(response: httpx.Response, field: str) -> None:
    """A 422 problem JSON whose `errors` name `field` (alone or as a part of a path)."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    named = {part for error in errors for part in error["field"].split(".")}
    assert field in named, errors


def caller(path: str) -> dict[str, str]:
    """A token allowed to call `path`, so that only the input can be refused."""
    if path == "/v1/applications":
        return APPLICANT
    if "/school-reports" in path:
        return SCHOOL
    return AB if "/ab-" in path else STAFF


def raw(body: str) -> dict[str, Any]:
    """A request body sent as written (httpx cannot encode a lone surrogate itself)."""
    return {"content": body.encode(), "headers": {"Content-Type": "application/json", **STAFF}}


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", f"/v1/applications/a{NUL}b", "application_id"),
        ("GET", f"/v1/applications/a{NUL}b/history", "application_id"),
        ("GET", f"/v1/applications/a{NUL}b/assignments", "application_id"),
        ("POST", f"/v1/applications/a{NUL}b/withdraw", "application_id"),
        ("GET", f"/v1/candidates/a{NUL}b", "candidate_id"),
        ("GET", f"/v1/providers/a{NUL}b", "provider_id"),
        ("GET", f"/v1/elements/a{NUL}b", "element_id"),
        ("GET", f"/v1/results/a{NUL}b", "outcome_id"),
        ("GET", f"/v1/certifications/a{NUL}b", "outcome_id"),
        ("GET", f"/v1/reviews/a{NUL}b", "review_id"),
        ("POST", f"/v1/assignments/a{NUL}b/unassign", "assignment_id"),
        ("GET", f"/v1/users/a{NUL}b", "user_id"),
        ("GET", f"/v1/templates/a{NUL}b", "code"),
        ("GET", f"/v1/outcome-releases/batches/a{NUL}b", "batch_id"),
        ("GET", f"/v1/checklist-syncs/a{NUL}b", "sync_id"),
        ("GET", f"/v1/inductions/123{NUL}567", "trn"),
    ],
)
async def test_nul_in_a_path_id(api: httpx.AsyncClient, method: str, path: str, field: str) -> None:
    assert_problem(await api.request(method, path, headers=STAFF), field)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/v1/applications?stage=a{NUL}b", "stage"),
        (f"/v1/applications?cursor=a{NUL}b", "cursor"),
        (f"/v1/results?candidate_id=a{NUL}b", "candidate_id"),
        (f"/v1/outcome-releases/pending?uln=a{NUL}b", "uln"),
        (f"/v1/outcome-releases/pending?q=a{NUL}b", "q"),
        (f"/v1/outcome-releases/pending?provider_id=a{NUL}b", "provider_id"),
        (f"/v1/reports/pass-fail?standard=a{NUL}b", "standard"),
        (f"/v1/reports/sla?subject=a{NUL}b", "subject"),
        (f"/v1/reports/result-tracking?tz=Europe/London{NUL}", "tz"),
        (f"/v1/reports/pass-fail?from=2026-01-01{NUL}", "from"),
        (f"/v1/slas?definition=a{NUL}b", "definition"),
    ],
)
async def test_nul_in_a_query_filter(api: httpx.AsyncClient, path: str, field: str) -> None:
    assert_problem(await api.get(path, headers=STAFF), field)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/providers", {"name": "Acme\u0000"}, "name"),
        ("POST", "/v1/employers", {"name": "\u0000"}, "name"),
        ("POST", "/v1/users", {"id": "u-1", "name": "U\u0000"}, "name"),
        (
            "POST",
            "/v1/templates",
            {
                "code": "t",
                "name": "T",
                "sections": [{**TEMPLATE_SECTION, "checks": ["ok", "bad\u0000"]}],
                "stages": [{"code": "st", "name": "St", "levels": 1}],
            },
            "checks",
        ),
        ("POST", "/v1/applications", {"template_code": "qts\u0000"}, "template_code"),
        ("POST", "/v1/checklist-syncs", {"template_code": "\u0000"}, "template_code"),
        ("POST", "/v1/elements", {"candidate_id": SOME_ID, "component": "p\u0000"}, "component"),
        ("POST", "/v1/results", {"element_id": "e\u0000", "grade": "PASS"}, "element_id"),
        ("POST", "/v1/resits", {"result_id": "\u0000"}, "result_id"),
        (
            "PUT",
            f"/v1/reviews/{SOME_ID}/responses/{SOME_ID}",
            {"decision": "DECLINE", "comment": "why\u0000"},
            "comment",
        ),
        ("POST", f"/v1/reviews/{SOME_ID}/submit", {"comment": "\u0000"}, "comment"),
        ("POST", f"/v1/assignments/{SOME_ID}/assign", {"sections": ["a\u0000"]}, "sections"),
        (
            "POST",
            "/v1/inductions/1234567/ab-claims",
            {"appropriate_body_id": "ab\u0000", "programme_type": "x", "started_on": "2026-01-01"},
            "appropriate_body_id",
        ),
    ],
)
async def test_nul_in_a_body_string(
    api: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    assert_problem(await api.request(method, path, json=body, headers=caller(path)), field)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/providers", '{"name": "Acme \\ud800"}', "name"),
        ("/v1/candidates", '{"name": "\\udfff", "provider_id": "p", "status": "x"}', "name"),
        ("/v1/outcome-releases", '{"outcomes": [{"kind": "result", "id": "\\ud800"}]}', "id"),
        ("/v1/providers", '{"name": "Acme", "\\ud800": 1}', "body"),  # an unknown key
        ("/v1/employers", '{"name": "Acme", "a\\u0000": 1}', "a\x00"),
    ],
)
async def test_unstorable_text_in_a_raw_body_string_or_key(
    api: httpx.AsyncClient, path: str, body: str, field: str
) -> None:
    assert_problem(await api.post(path, **raw(body)), field)


BAD_ANSWERS = [
    '"\\ud800"',
    '"ok \\udc00 ok"',
    '["fine", {"deep": ["\\ud83d"]}]',
    '{"\\ud800": "a key"}',
    '"a\\u0000b"',
    '{"k": "\\u0000"}',
    "NaN",
    "1e400",
    "-Infinity",
    str(2**64),
    json.dumps("x" * 20_001),
    "[" * 40 + "]" * 40,
]


@pytest.mark.parametrize("value", BAD_ANSWERS)
async def test_an_answer_that_cannot_be_stored_changes_nothing(
    api: httpx.AsyncClient, value: str
) -> None:
    await publish_template(api)
    application_id = await draft(api, APPLICANT)
    path = f"/v1/applications/{application_id}/responses/full_name"
    first = await api.put(path, json={"value": "Ada Lovelace"}, headers=APPLICANT)
    assert first.status_code == 200, first.text

    refused = await api.put(
        path,
        content=f'{{"value": {value}}}'.encode(),
        headers={"Content-Type": "application/json", **APPLICANT},
    )

    assert_problem(refused, "value")
    read = await api.get(f"/v1/applications/{application_id}", headers=APPLICANT)
    assert read.status_code == 200, read.text
    assert [(r["element_code"], r["value"]) for r in read.json()["responses"]] == [
        ("full_name", "Ada Lovelace")
    ]


async def test_nul_in_the_element_code_of_an_answer(api: httpx.AsyncClient) -> None:
    await publish_template(api)
    application_id = await draft(api, APPLICANT)
    refused = await api.put(
        f"/v1/applications/{application_id}/responses/full{NUL}name",
        json={"value": "Ada"},
        headers=APPLICANT,
    )
    assert_problem(refused, "element_code")


@pytest.mark.parametrize(
    "instant",
    [
        "0001-01-01T00:00:00+14:00",  # year 0 once in UTC
        "9999-12-31T23:00:00-14:00",  # year 10000 once in UTC
        "9999-12-31T12:00:00Z",
        "1899-12-31T23:59:59Z",
        "2026-01-05T09:00:00",  # naive
        "2026-01-05",  # a day is not an instant
    ],
)
async def test_an_instant_out_of_range_on_a_candidate_changes_nothing(
    api: httpx.AsyncClient, instant: str
) -> None:
    records = await setup(api)
    path = f"/v1/candidates/{records.candidate_id}"
    before = await api.get(path, headers=ADMIN)
    assert before.status_code == 200, before.text

    refused = await api.patch(
        path, json={"status": "WITHDRAWN", "gateway_approved_at": instant}, headers=ADMIN
    )

    assert_problem(refused, "gateway_approved_at")
    after = await api.get(path, headers=ADMIN)
    assert after.status_code == 200, after.text
    assert after.json() == before.json()
    assert after.json()["gateway_approved_at"] is None
    pending = await api.get(
        f"/v1/outcome-releases/pending?candidate_id={records.candidate_id}", headers=RELEASER
    )
    assert pending.status_code == 200, pending.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/elements",
            {"candidate_id": SOME_ID, "component": "p", "scheduled_at": YEAR_ONE_PLUS_14},
            "scheduled_at",
        ),
        (
            "/v1/elements",
            {"candidate_id": SOME_ID, "component": "p", "scheduled_at": "2026-01-05T09:00:00"},
            "scheduled_at",
        ),
        (
            "/v1/outcome-releases",
            {
                "outcomes": [{"kind": "result", "id": SOME_ID}],
                "mode": "scheduled",
                "release_at": "9999-12-31T23:59:59-14:00",
            },
            "release_at",
        ),
        (
            "/v1/outcome-releases",
            {
                "outcomes": [{"kind": "result", "id": SOME_ID}],
                "mode": "scheduled",
                "release_at": "2030-01-01T00:00:00",
            },
            "release_at",
        ),
        (
            "/v1/inductions/1234567/school-reports",
            {
                "school_id": "school-1",
                "appropriate_body_id": "ab-1",
                "programme_type": "provider_led",
                "start_date": "9999-12-31",
            },
            "start_date",
        ),
        (
            "/v1/inductions/1234567/migrated-reports",
            {"start_date": "0001-01-01"},
            "start_date",
        ),
    ],
)
async def test_instants_and_days_out_of_range_in_bodies(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    assert_problem(await api.post(path, json=body, headers=caller(path)), field)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=9999-12-31", "to"),
        ("from=0001-01-01", "from"),
        ("from=0001-01-01&tz=Asia/Tokyo", "from"),
        ("to=9999-12-31T23:00:00-14:00", "to"),
        ("from=0001-01-01T00:00:00%2B14:00", "from"),
        ("from=2026-01-01T10:00:00", "from"),  # naive
        ("from=2026-01-01T00:00:00", "from"),  # naive, even at midnight
    ],
)
@pytest.mark.parametrize("name", ["pass-fail", "outcome-releases", "sla", "result-tracking"])
async def test_a_report_window_out_of_range(
    api: httpx.AsyncClient, name: str, query: str, field: str
) -> None:
    assert_problem(await api.get(f"/v1/reports/{name}?{query}", headers=STAFF), field)


async def test_the_last_day_in_range_is_a_report_window(api: httpx.AsyncClient) -> None:
    answer = await api.get(
        "/v1/reports/pass-fail?from=1900-01-01&to=9999-12-30&tz=Pacific/Kiritimati",
        headers=STAFF,
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/outcome-releases/pending?from=0001-01-01T00:00:00%2B14:00", "from"),
        ("/v1/outcome-releases/pending?to=2026-01-01T00:00:00", "to"),
        (f"/v1/checklist-syncs/{SOME_ID}?offset={2**63}", "offset"),
        (f"/v1/checklist-syncs/{SOME_ID}?offset={2**64 + 1}", "offset"),
        (f"/v1/templates/qts/versions/{2**63}", "version"),
        (f"/v1/templates/qts/versions/{2**31}", "version"),
        (f"/v1/applications?limit={2**64}", "limit"),
    ],
)
async def test_query_and_path_values_out_of_range(
    api: httpx.AsyncClient, path: str, field: str
) -> None:
    assert_problem(await api.get(path, headers=STAFF), field)


@pytest.mark.parametrize("command", ["sync-checklists", "schedule-sync"])
def test_the_cli_refuses_a_template_code_the_api_would_refuse(command: str) -> None:
    args = [sys.executable, "cli.py", command, "--template", "has space", "--cron", "0 2 * * *"]
    if command == "sync-checklists":
        args = args[:-2]
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(args, capture_output=True, text=True, cwd=root, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "not a template code" in run.stderr
