"""GET /metrics: requests by route template and status, in-flight, and the casework backlog."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlmodel import Session

from domain.application import ApplicationStatus
from domain.outcome import Grade, OutcomeKind, OutcomeStatus
from domain.sla import SlaStatus
from models.application import Application
from models.outcome import Outcome
from models.sla import SlaInstance
from tests.support.outcome_seed import seed_records
from tests.support.seed import T0
from tests.support.tokens import bearer

ADMIN = bearer("admin-1", "admin")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(api: httpx.AsyncClient) -> Samples:
    """Every sample of one scrape, by (name, labels)."""
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_requests_are_counted_by_route_template_and_status(api: httpx.AsyncClient) -> None:
    for user_id in ("u-1", "u-2", "u-3"):
        assert (await api.get(f"/v1/users/{user_id}", headers=ADMIN)).status_code == 404
    assert (await api.get("/v1/users/u-4")).status_code == 401
    assert (await api.get("/no/such/path/42", headers=ADMIN)).status_code == 404

    samples = await scrape(api)

    route = "/v1/users/{user_id}"
    requests = "casework_http_requests_total"
    assert value(samples, requests, method="GET", route=route, status="404") == 3
    assert value(samples, requests, method="GET", route=route, status="401") == 1
    assert value(samples, requests, method="GET", route="<unmatched>", status="404") == 1
    duration = "casework_http_request_duration_seconds_count"
    assert value(samples, duration, method="GET", route=route, status="404") == 3
    assert not any("u-1" in str(labels) for _, labels in samples)
    assert value(samples, "casework_http_requests_in_flight") == 1  # the scrape itself


async def test_metrics_need_no_token_and_stay_out_of_the_openapi(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    assert (await api.get("/metrics")).status_code == 200
    assert "/metrics" not in paths


def _seed_backlog(engine: Engine) -> None:
    """Open and stopped SLAs, outcomes waiting for release, and LOQs (one past its deadline)."""
    now = datetime.now(UTC)
    records = seed_records(engine)
    running, paused, breached = SlaStatus.RUNNING, SlaStatus.PAUSED, SlaStatus.BREACHED
    slas: list[tuple[SlaStatus, datetime | None]] = [(running, None), (running, None)]
    slas += [(paused, None), (breached, None), (breached, now), (SlaStatus.MET, now)]
    with Session(engine) as session, session.begin():
        for number, (status, stopped_at) in enumerate(slas):
            session.add(
                SlaInstance(
                    id=f"sla-{number}",
                    definition="result_complete_to_release",
                    version=1,
                    subject=str(uuid.uuid4()),
                    status=status,
                    goal_s=60,
                    started_at=T0,
                    stopped_at=stopped_at,
                    breached_at=T0 if status == breached else None,
                )
            )
        pending = OutcomeStatus.PENDING_RELEASE
        outcomes = [(pending, None), (pending, now), (OutcomeStatus.IN_QA, None)]
        for number, (outcome_status, scheduled) in enumerate(outcomes):
            session.add(
                Outcome(
                    id=f"outcome-{number}",
                    kind=OutcomeKind.RESULT,
                    candidate_id=records.candidate_id,
                    element_id=records.element_id,
                    grade=Grade.PASS,
                    status=outcome_status,
                    submitted_by="assessor-1",
                    submitted_at=T0,
                    scheduled_release_at=scheduled,
                    created_at=T0,
                    updated_at=T0,
                )
            )
        for number, deadline in enumerate([now + timedelta(days=3), now - timedelta(days=1)]):
            session.add(
                Application(
                    id=f"loq-{number}",
                    template_code="qts",
                    template_version=1,
                    applicant_id="alice",
                    status=ApplicationStatus.CHANGES_REQUIRED,
                    loq_deadline_at=deadline,
                    created_at=T0,
                    updated_at=T0,
                )
            )


async def test_the_backlog_is_read_from_postgresql_at_scrape_time(
    api: httpx.AsyncClient, db: Engine
) -> None:
    empty = await scrape(api)
    _seed_backlog(db)

    samples = await scrape(api)

    definition = "result_complete_to_release"
    assert value(empty, "casework_slas_open", definition=definition, status="RUNNING") is None
    assert value(samples, "casework_backlog_up") == 1
    assert value(samples, "casework_slas_open", definition=definition, status="RUNNING") == 2
    assert value(samples, "casework_slas_open", definition=definition, status="PAUSED") == 1
    assert value(samples, "casework_slas_open", definition=definition, status="BREACHED") == 1
    assert value(samples, "casework_slas_open", definition=definition, status="MET") is None
    assert value(samples, "casework_slas_breached_total", definition=definition) == 2
    pending = "casework_outcomes_pending_release"
    assert value(samples, pending, kind="result", scheduled="false") == 1
    assert value(samples, pending, kind="result", scheduled="true") == 1
    assert value(samples, "casework_loqs_open") == 2
    assert value(samples, "casework_loqs_past_deadline") == 1
