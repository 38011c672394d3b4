"""Reports refuse what they cannot answer: no token, the wrong role, bad input; and they
list LEGACY back-fills like any other release."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from domain.outcome import Grade, OutcomeKind, OutcomeStatus
from models.outcome import Outcome
from models.outcome_release import backfill_legacy
from tests.api.outcome_flows import setup
from tests.api.test_report import STAFF, report, report_csv
from tests.support.tokens import bearer

NAMES = ["pass-fail", "first-time-pass", "outcome-releases", "sla", "result-tracking"]


def load_legacy(
    db: Engine, candidate_id: str, element_id: str, outcome_id: str, grade: str, at: datetime
) -> None:
    """A result loaded from the older service: complete at `at`, never release-tracked."""
    with Session(db) as session, session.begin():
        session.add(
            Outcome(
                id=outcome_id,
                kind=OutcomeKind.RESULT,
                candidate_id=candidate_id,
                element_id=element_id,
                grade=Grade(grade),
                status=OutcomeStatus.PENDING_RELEASE,
                tracked=False,
                submitted_by="old-system",
                submitted_at=at - timedelta(days=2),
                completed_at=at,
                created_at=at,
                updated_at=at,
            )
        )


@pytest.mark.parametrize("name", NAMES)
async def test_every_report_needs_a_token(api: httpx.AsyncClient, name: str) -> None:
    answer = await api.get(f"/v1/reports/{name}")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("role", ["applicant", "school", "appropriate_body", "lead_provider"])
async def test_roles_without_outcomes_are_refused(
    api: httpx.AsyncClient, name: str, role: str
) -> None:
    answer = await api.get(f"/v1/reports/{name}", headers=bearer("x", role, org="org-1"))
    assert answer.status_code == 403
    assert name in answer.json()["detail"]


@pytest.mark.parametrize("role", ["candidate", "provider", "employer"])
async def test_external_users_do_not_read_the_sla_report(api: httpx.AsyncClient, role: str) -> None:
    answer = await api.get("/v1/reports/sla", headers=bearer("x", role, org="org-1"))
    assert answer.status_code == 403
    csv_answer = await api.get("/v1/reports/sla?format=csv", headers=bearer("x", role, org="o"))
    assert csv_answer.status_code == 403


async def test_an_external_role_without_an_organisation_reads_nothing(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.get("/v1/reports/pass-fail", headers=bearer("x", "provider"))
    assert answer.status_code == 403


async def test_an_unknown_report_is_404_naming_the_reports(api: httpx.AsyncClient) -> None:
    answer = await api.get("/v1/reports/grades", headers=STAFF)
    assert answer.status_code == 404
    assert all(name in answer.json()["detail"] for name in NAMES)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("format=xlsx", "format"),
        ("from=yesterday", "from"),
        ("from=2026-11-22T10:00:00", "from"),  # an instant needs a zone
        ("from=2026-11-22&to=2026-11-21", "to"),  # empty window
        ("from=2026-11-22T10:00:00Z&to=2026-11-22T10:00:00Z", "to"),
        ("tz=Mars/Olympus", "tz"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("kind=diploma", "kind"),
    ],
)
@pytest.mark.parametrize("name", ["pass-fail", "outcome-releases", "result-tracking"])
async def test_bad_input_is_a_problem_naming_the_field(
    api: httpx.AsyncClient, name: str, query: str, field: str
) -> None:
    answer = await api.get(f"/v1/reports/{name}?{query}", headers=STAFF)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in answer.text


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("outcome-releases", "method=SOMETIMES"),
        ("result-tracking", "date_field=completed"),
        ("sla", "status=LATE"),
        ("sla", "breached=perhaps"),
    ],
)
async def test_report_specific_filters_are_checked(
    api: httpx.AsyncClient, name: str, query: str
) -> None:
    answer = await api.get(f"/v1/reports/{name}?{query}", headers=STAFF)
    assert answer.status_code == 422, answer.text


async def test_a_bad_csv_request_is_refused_before_anything_streams(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.get("/v1/reports/outcome-releases?format=csv&tz=Nowhere", headers=STAFF)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_legacy_release_is_listed_and_counted_on_its_completion_day(
    api: httpx.AsyncClient, db: Engine
) -> None:
    records = await setup(api, auto_release=False)
    completed_at = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    load_legacy(db, records.candidate_id, records.element_id, "legacy-result", "FAIL", completed_at)
    assert backfill_legacy(db, at=datetime.now(UTC)) == 1

    [row] = await report(api, "outcome-releases", method="LEGACY")
    assert (row["id"], row["release_method"], row["grade"]) == ("legacy-result", "LEGACY", "FAIL")
    assert row["released_at"] == "2025-03-14T09:30:00Z"
    [exported] = await report_csv(api, "outcome-releases", method="LEGACY")
    assert exported["release_method"] == "LEGACY"
    [day] = await report(api, "pass-fail", **{"from": "2025-03-14", "to": "2025-03-14"})
    assert (day["date"], day["failed"], day["passed"]) == ("2025-03-14", 1, 0)


async def test_days_are_counted_in_the_zone_asked_for(api: httpx.AsyncClient, db: Engine) -> None:
    records = await setup(api, auto_release=False)
    late_evening = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 1 July 00:30 in London (BST)
    load_legacy(db, records.candidate_id, records.element_id, "late-result", "PASS", late_evening)
    backfill_legacy(db, at=datetime.now(UTC))

    [utc] = await report(api, "pass-fail")
    [london] = await report(api, "pass-fail", tz="Europe/London")
    assert (utc["date"], london["date"]) == ("2026-06-30", "2026-07-01")
    in_london = await report(
        api, "pass-fail", tz="Europe/London", **{"from": "2026-07-01", "to": "2026-07-01"}
    )
    assert [row["passed"] for row in in_london] == [1]


async def test_who_is_asking_is_settled_before_what_is_asked(api: httpx.AsyncClient) -> None:
    no_token = await api.get("/v1/reports/pass-fail?tz=Nowhere&from=2026-11-22&to=2026-11-01")
    assert no_token.status_code == 401
    outsider = bearer("x", "applicant")
    refused = await api.get("/v1/reports/outcome-releases?tz=Nowhere", headers=outsider)
    assert refused.status_code == 403
