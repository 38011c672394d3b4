"""A cancel of SlaWorkflow stops the clock as CANCELLED, recorded for the operator."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.client import WorkflowExecutionStatus as Status
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment

from api.services.sla import running_slas, start_sla
from domain.sla import SlaStatus
from models.sla import SlaInstance, SlaLogEntry
from tests.support.operator import OPERATOR, audit_rows, events_of, operator_client, status_of
from tests.support.seed import seed_ten_day_sla
from worker import build_worker
from workflows.payloads.sla import SlaState, StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

DAY = timedelta(days=1)
Handle = WorkflowHandle[SlaWorkflow, SlaState]
START = StartSlaInput(definition="ten_days", subject="result-1", candidate_id="cand-1")


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """A ten-day definition and a worker."""
    seed_ten_day_sla(db)
    async with build_worker(ts_env.client, db, task_queue=task_queue, threads=4):
        yield ts_env.client


async def _running(client: Client, task_queue: str) -> Handle:
    return await client.start_workflow(
        SlaWorkflow.run, START, id=sla_workflow_id("ten_days", "result-1"), task_queue=task_queue
    )


async def _cancel(client: Client, handle: Handle) -> None:
    await (await operator_client(client)).get_workflow_handle(handle.id).cancel()
    with pytest.raises(WorkflowFailureError) as ended:
        await handle.result()
    assert isinstance(ended.value.cause, CancelledError)
    assert await status_of(handle) == Status.CANCELED


def _instance(db: Engine) -> tuple[SlaInstance, list[str]]:
    with Session(db) as session:
        instance = session.exec(select(SlaInstance)).one()
        log = session.exec(select(SlaLogEntry.kind).order_by(col(SlaLogEntry.seq))).all()
    return instance, list(log)


async def test_a_cancel_stops_the_clock_as_cancelled_for_the_operator(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle = await _running(client, task_queue)
    await ts_env.sleep(DAY * 6)  # past the first warning

    await _cancel(client, handle)

    instance, log = _instance(db)
    assert (instance.status, log) == (SlaStatus.CANCELLED, ["START", "STOP"])
    assert instance.stopped_at is not None
    assert instance.stopped_at - instance.started_at == pytest.approx(DAY * 6, abs=DAY / 24)
    [audit] = audit_rows(db, "result-1", "sla_cancelled")
    assert (audit.actor, audit.detail["reason"]) == (OPERATOR, "CANCELLED_BY_OPERATOR")
    [event] = events_of(db, "sla.cancelled")
    assert event.data["elapsed_s"] == pytest.approx((DAY * 6).total_seconds(), rel=0.01)
    assert [e.type for e in events_of(db, "sla.warning")] == ["sla.warning"]


async def test_after_the_cancel_the_clock_neither_breaches_nor_restarts(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle = await _running(client, task_queue)
    await ts_env.sleep(DAY * 2)
    await _cancel(client, handle)

    await ts_env.sleep(DAY * 20)
    await start_sla(client, START, task_queue=task_queue)  # the outcome asks again: refused

    assert events_of(db, "sla.breached") == []
    assert running_slas(db, "cand-1") == []  # a candidate's pause or resume skips it
    instance, log = _instance(db)
    assert (instance.status, log) == (SlaStatus.CANCELLED, ["START", "STOP"])


async def test_a_paused_clock_cancelled_counts_the_pause_up_to_the_cancel(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    handle = await _running(client, task_queue)
    await ts_env.sleep(DAY)
    await handle.signal(SlaWorkflow.pause)
    await ts_env.sleep(DAY * 4)

    await _cancel(client, handle)

    instance, log = _instance(db)
    assert (instance.status, log) == (SlaStatus.CANCELLED, ["START", "PAUSE", "STOP"])
    [event] = events_of(db, "sla.cancelled")
    assert event.data["elapsed_s"] == pytest.approx(DAY.total_seconds(), rel=0.01)
