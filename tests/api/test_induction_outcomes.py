"""Induction outcomes over HTTP: the holding AB closes or releases; refusals write nothing; a
school report after closing is recorded against the closed induction; reconcile agrees."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.services.reconcile import Problem, scan
from models.event import OutboxEvent
from models.induction import Induction, InductionReport
from tests.api.reconcile_flows import scan_until
from tests.api.test_induction import (
    AB_1,
    AB_2,
    ADMIN,
    LEAD_PROVIDER,
    SCHOOL,
    ab_claim,
    school_report,
)
from tests.support.tokens import bearer

SCHOOL_2 = bearer("sue", "school", org="school-2")


@pytest.fixture
def trn() -> str:
    """A teacher of the test's own: registrations outlive a test on the shared dev server."""
    return f"{uuid.uuid4().int % 10_000_000:07d}"


def outcome(value: str, completed_on: str = "2026-01-15") -> dict[str, Any]:
    return {"outcome": value, "completed_on": completed_on}


def _count(db: Engine, model: type[InductionReport] | type[OutboxEvent], *where: Any) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _written(db: Engine, trn: str) -> tuple[int, int]:
    """(reports of the teacher, events about the teacher)."""
    return (
        _count(db, InductionReport, col(InductionReport.trn) == trn),
        _count(db, OutboxEvent, col(OutboxEvent.subject) == trn),
    )


async def _claimed(api: httpx.AsyncClient, trn: str) -> str:
    base = f"/v1/inductions/{trn}"
    reported = await api.post(f"{base}/school-reports", json=school_report(), headers=SCHOOL)
    assert reported.status_code == 201, reported.text
    claimed = await api.post(f"{base}/ab-claims", json=ab_claim("ab-1", "school_led"), headers=AB_1)
    assert claimed.status_code == 201, claimed.text
    return base


async def _workflow_status(dev_env: WorkflowEnvironment, trn: str) -> WorkflowExecutionStatus:
    described = await dev_env.client.get_workflow_handle(f"induction-{trn}").describe()
    assert described.status is not None
    return described.status


async def test_passed_closes_for_good_and_a_late_school_report_raises_a_discrepancy(
    api: httpx.AsyncClient, db: Engine, dev_env: WorkflowEnvironment, trn: str
) -> None:
    base = await _claimed(api, trn)

    passed = await api.post(f"{base}/outcomes", json=outcome("PASSED"), headers=AB_1)

    assert passed.status_code == 201, passed.text
    assert (passed.json()["status"], passed.json()["outcome"]) == ("CLOSED", "PASSED")
    handle = dev_env.client.get_workflow_handle(f"induction-{trn}")
    await handle.result()
    assert await _workflow_status(dev_env, trn) == WorkflowExecutionStatus.COMPLETED
    view = (await api.get(base, headers=SCHOOL)).json()
    assert (view["status"], view["outcome"], view["completed_on"]) == (
        "CLOSED",
        "PASSED",
        "2026-01-15",
    )
    [event] = [e for e in _events(db, trn) if e.type == "induction.completed"]
    assert (event.data["outcome"], event.data["reporter"]) == ("PASSED", "ab-1")
    effective = view["effective"]

    written = _written(db, trn)
    again = await api.post(f"{base}/outcomes", json=outcome("FAILED"), headers=AB_1)
    other = await api.post(f"{base}/outcomes", json=outcome("RELEASED"), headers=AB_2)
    claim = await api.post(f"{base}/ab-claims", json=ab_claim("ab-2"), headers=AB_2)
    release = await api.post(f"{base}/ab-releases", headers=AB_1)
    assert [r.status_code for r in (again, other, claim, release)] == [409, 403, 409, 409]
    for refused in (again, claim, release):
        assert refused.headers["content-type"] == "application/problem+json"
        assert "closed" in refused.json()["detail"]
        assert "PASSED" in refused.json()["detail"]
    assert _written(db, trn) == written

    late = await api.post(
        f"{base}/school-reports",
        json=school_report(school_id="school-2", appropriate_body_id="ab-9"),
        headers=SCHOOL_2,
    )
    assert late.status_code == 201, late.text
    assert (late.json()["status"], late.json()["effective"]) == ("CLOSED", effective)
    assert late.json()["open_discrepancies"] == ["induction_status"]
    after = (await api.get(base, headers=ADMIN)).json()
    assert after["reports"][0]["reporter"] == "school-2"
    [discrepancy] = after["discrepancies"]
    assert (discrepancy["field"], discrepancy["school"]["value"]) == ("induction_status", "OPEN")
    assert (discrepancy["appropriate_body"]["value"], after["status"]) == ("PASSED", "CLOSED")
    [to_do] = (await api.get("/v1/actions", headers=SCHOOL_2)).json()["items"]
    assert to_do["detail"]["field"] == "induction_status"
    assert await _workflow_status(dev_env, trn) == WorkflowExecutionStatus.COMPLETED  # not reopened


def _events(db: Engine, trn: str) -> list[OutboxEvent]:
    with Session(db) as session:
        return list(session.exec(select(OutboxEvent).where(OutboxEvent.subject == trn)).all())


async def test_released_lets_another_ab_claim_which_then_records_failed(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, trn: str
) -> None:
    base = await _claimed(api, trn)

    released = await api.post(f"{base}/outcomes", json=outcome("RELEASED"), headers=AB_1)

    assert released.status_code == 201, released.text
    body = released.json()
    assert (body["status"], body["outcome"], body["claimed_by"]) == ("OPEN", "RELEASED", None)
    assert body["effective"]["appropriate_body_id"] == {
        "value": "ab-1",
        "source": "school",
        "confirmed": False,
    }
    assert await _workflow_status(dev_env, trn) == WorkflowExecutionStatus.RUNNING
    assert (
        await api.post(f"{base}/outcomes", json=outcome("PASSED"), headers=AB_1)
    ).status_code == 403

    claimed = await api.post(f"{base}/ab-claims", json=ab_claim("ab-2"), headers=AB_2)
    assert claimed.status_code == 201, claimed.text
    view = (await api.get(base, headers=AB_2)).json()
    assert (view["status"], view["outcome"], view["claimed_by"]) == ("OPEN", None, "ab-2")

    failed = await api.post(f"{base}/outcomes", json=outcome("FAILED"), headers=AB_2)
    assert failed.status_code == 201, failed.text
    assert (failed.json()["status"], failed.json()["outcome"]) == ("CLOSED", "FAILED")
    lead = (await api.get(base, headers=LEAD_PROVIDER)).json()
    assert (lead["status"], lead["outcome"], lead["claimed_by"]) == ("CLOSED", "FAILED", "ab-2")
    kinds = [r["outcome"] for r in (await api.get(base, headers=ADMIN)).json()["reports"]]
    assert [k for k in kinds if k] == ["FAILED", "RELEASED"]


@pytest.mark.parametrize(
    ("headers", "body", "status", "says"),
    [
        pytest.param(AB_2, outcome("PASSED"), 403, "does not hold", id="another AB"),
        pytest.param(SCHOOL, outcome("PASSED"), 403, "", id="a school"),
        pytest.param(LEAD_PROVIDER, outcome("PASSED"), 403, "", id="a lead provider"),
        pytest.param({}, outcome("PASSED"), 401, "", id="no token"),
        pytest.param(AB_1, outcome("MAYBE"), 422, "outcome", id="unknown outcome"),
        pytest.param(AB_1, {"outcome": "PASSED"}, 422, "completed_on", id="no date"),
        pytest.param(AB_1, outcome("PASSED", "2025-08-31"), 422, "before", id="before start"),
        pytest.param(
            AB_1,
            outcome("PASSED", str((datetime.now(UTC) + timedelta(days=2)).date())),
            422,
            "future",
            id="in the future",
        ),
    ],
)
async def test_refused_outcomes_name_the_reason_and_write_nothing(
    api: httpx.AsyncClient,
    db: Engine,
    trn: str,
    headers: dict[str, str],
    body: dict[str, Any],
    status: int,
    says: str,
) -> None:
    base = await _claimed(api, trn)
    written = _written(db, trn)

    refused = await api.post(f"{base}/outcomes", json=body, headers=headers)

    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert says in refused.text
    assert _written(db, trn) == written
    assert (await api.get(base, headers=AB_1)).json()["status"] == "OPEN"


async def test_an_outcome_for_a_teacher_nobody_registered_is_forbidden(
    api: httpx.AsyncClient, db: Engine, trn: str
) -> None:
    refused = await api.post(f"/v1/inductions/{trn}/outcomes", json=outcome("PASSED"), headers=AB_1)

    assert refused.status_code == 403, refused.text
    assert _written(db, trn) == (0, 0)


async def test_reconcile_expects_a_closed_inductions_workflow_to_be_closed(
    api: httpx.AsyncClient, db: Engine, dev_env: WorkflowEnvironment, task_queue: str, trn: str
) -> None:
    base = await _claimed(api, trn)
    closed = await api.post(f"{base}/outcomes", json=outcome("PASSED"), headers=AB_1)
    assert closed.status_code == 201, closed.text
    await dev_env.client.get_workflow_handle(f"induction-{trn}").result()
    other = await _claimed(api, f"{trn[:-1]}{(int(trn[-1]) + 1) % 10}")

    assert await scan(db, dev_env.client, task_queue=task_queue) == []

    with Session(db) as session, session.begin():  # closed behind its running workflow's back
        session.execute(
            update(Induction).where(col(Induction.trn) == other[-7:]).values(status="CLOSED")
        )
    [stray] = await scan_until(db, dev_env.client, task_queue, 1)
    assert (stray.problem, stray.business_id) == (Problem.CASE_CLOSED, other[-7:])
