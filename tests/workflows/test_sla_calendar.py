"""SlaWorkflow on a business calendar under the time-skipping server: the breach fires at
the wall instant working time reaches the goal, across weekends, holidays and DST."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.sla import SlaStatus
from models.event import OutboxEvent
from models.sla import SlaInstance
from tests.support.sla_calendar import (
    LONDON,
    next_friday_afternoon,
    seed_calendar,
    seed_definition,
    skip_to,
    sla_worker,
)
from workflows.payloads.sla import SlaState, StartSlaInput, sla_workflow_id
from workflows.sla import SlaWorkflow

HOUR = timedelta(hours=1)
Handle = WorkflowHandle[SlaWorkflow, SlaState]


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db: Engine, task_queue: str) -> AsyncIterator[Client]:
    """A worker for SLA workflows."""
    async with sla_worker(ts_env.client, db, task_queue):
        yield ts_env.client


def breach_events(db: Engine) -> list[OutboxEvent]:
    with Session(db) as session:
        return list(
            session.exec(
                select(OutboxEvent)
                .where(OutboxEvent.type == "sla.breached")
                .order_by(col(OutboxEvent.id))
            ).all()
        )


def instance(db: Engine) -> SlaInstance:
    with Session(db) as session:
        return session.exec(select(SlaInstance)).one()


async def start_on_friday(
    client: Client,
    ts_env: WorkflowEnvironment,
    db: Engine,
    task_queue: str,
    *,
    goal: timedelta,
    warnings: list[float],
    monday_off: bool = True,
    october: bool = False,
) -> tuple[datetime, Handle]:
    """The office calendar (its next Monday a holiday when `monday_off`) and a definition of
    `goal` working time; an SLA started on the next Friday at 15:00 London. That Friday."""
    friday = next_friday_afternoon(await ts_env.get_current_time(), october=october)
    seed_calendar(db, [friday.date() + timedelta(days=3)] if monday_off else [])
    seed_definition(db, goal, warnings)
    await skip_to(ts_env, friday)
    handle = await client.start_workflow(
        SlaWorkflow.run,
        StartSlaInput(definition="office_hours", subject="result-1"),
        id=sla_workflow_id("office_hours", "result-1"),
        task_queue=task_queue,
    )
    return friday, handle


@pytest.mark.parametrize("october", [False, True], ids=["plain-week", "october-dst-change"])
async def test_sixteen_working_hours_from_friday_15h_breach_on_wednesday_15h(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment, october: bool
) -> None:
    friday, handle = await start_on_friday(
        client, ts_env, db, task_queue, goal=16 * HOUR, warnings=[0.5], october=october
    )
    monday = friday.date() + timedelta(days=3)

    tuesday_evening = datetime.combine(monday + timedelta(days=1), datetime.min.time(), LONDON)
    await skip_to(ts_env, tuesday_evening + timedelta(hours=18))  # 10 working hours so far
    assert breach_events(db) == []
    warned = instance(db).warned
    await skip_to(ts_env, tuesday_evening + timedelta(days=1, hours=14, minutes=59))
    assert breach_events(db) == []  # Wednesday 14:59: one working minute short
    await skip_to(ts_env, tuesday_evening + timedelta(days=1, hours=15, minutes=1))

    [breach] = breach_events(db)
    breached_at = instance(db).breached_at
    assert breached_at is not None
    local = breached_at.astimezone(LONDON)
    assert (local.date(), local.weekday()) == (monday + timedelta(days=2), 2)
    assert abs(local - local.replace(hour=15, minute=0, second=0, microsecond=0)) < timedelta(
        seconds=5
    )
    assert breach.data["elapsed_s"] == pytest.approx(16 * 3600, abs=5)
    assert breach.data["calendar"] == "office"
    assert warned == [0.5]  # 8 working hours: Tuesday 15:00, before the evening check
    assert (await handle.query(SlaWorkflow.state)).status == SlaStatus.BREACHED  # type: ignore[union-attr]


async def test_a_pause_over_a_holiday_moves_the_breach_and_fires_no_stale_timer(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    friday, handle = await start_on_friday(
        client, ts_env, db, task_queue, goal=4 * HOUR, warnings=[0.5]
    )
    await skip_to(ts_env, friday + HOUR / 2)  # half a working hour
    await handle.signal(SlaWorkflow.pause)
    # Paused a week and a holiday: the warning (2 h) and breach (4 h) would have been due.
    await skip_to(ts_env, friday + timedelta(days=7))
    assert breach_events(db) == []
    await handle.signal(SlaWorkflow.resume)  # Friday 15:00 again: 2 working hours left today
    await skip_to(ts_env, friday + timedelta(days=7, hours=1))
    assert instance(db).warned == []  # nothing fired in a burst on resume
    await skip_to(ts_env, friday + timedelta(days=7, hours=1, minutes=45))  # 2.25 h
    assert instance(db).warned == [0.5]
    assert breach_events(db) == []
    # 2.5 h by Friday 17:00, then the next Monday 09:00-10:30 (that Monday is no holiday).
    monday_after = friday + timedelta(days=10)
    await skip_to(ts_env, monday_after.replace(hour=10, minute=25))
    assert breach_events(db) == []
    await skip_to(ts_env, monday_after.replace(hour=10, minute=35))
    assert len(breach_events(db)) == 1
    state = await handle.query(SlaWorkflow.state)
    assert state is not None
    assert state.working_calendar is not None


async def test_a_calendar_change_applies_only_to_slas_started_after_it(
    client: Client, db: Engine, task_queue: str, ts_env: WorkflowEnvironment
) -> None:
    friday, handle = await start_on_friday(
        client, ts_env, db, task_queue, goal=4 * HOUR, warnings=[], monday_off=False
    )
    await skip_to(ts_env, friday + timedelta(minutes=10))
    monday = friday.date() + timedelta(days=3)
    seed_calendar(db, [monday], version=2)  # Monday becomes a holiday, for new SLAs only

    await skip_to(ts_env, friday + timedelta(days=3, hours=-4, minutes=-5))
    assert breach_events(db) == []  # Monday 10:55: not in wall time, not yet in working time
    await skip_to(ts_env, friday + timedelta(days=3, hours=-4, minutes=5))
    # Monday 11:05: 2 h on Friday + 2 h on Monday under version 1 (the holiday ignored).
    found = instance(db)
    assert (found.calendar, found.calendar_version) == ("office", 1)
    assert len(breach_events(db)) == 1
    state = await handle.query(SlaWorkflow.state)
    assert state is not None
    assert state.working_calendar is not None
    assert state.working_calendar.version == 1
