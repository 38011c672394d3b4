"""Builders for SLAs on a business calendar: an office calendar, a definition on it, and
the test server's clock moved to a Friday afternoon."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.sla import SlaActivities
from domain.calendar import WEEKDAYS
from models.sla import SlaCalendar, SlaDefinition
from worker import SANDBOX
from workflows.sla import SlaWorkflow

LONDON = ZoneInfo("Europe/London")
OFFICE = {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}
PUBLISHED = datetime(2026, 1, 1, tzinfo=UTC)


def seed_calendar(
    engine: Engine, holidays: list[date], *, code: str = "office", version: int = 1
) -> None:
    """Calendar `code` (09:00-17:00 Monday to Friday in London) with these holidays."""
    with Session(engine) as session, session.begin():
        session.add(
            SlaCalendar(
                code=code,
                version=version,
                timezone="Europe/London",
                working_hours=OFFICE,
                holidays=[d.isoformat() for d in holidays],
                published_at=PUBLISHED,
            )
        )


def seed_definition(
    engine: Engine, goal: timedelta, fractions: list[float], *, code: str = "office_hours"
) -> None:
    """Definition `code`: the goal in working time on calendar `office`."""
    with Session(engine) as session, session.begin():
        session.add(
            SlaDefinition(
                code=code,
                version=1,
                name="Office hours",
                start_event="a",
                stop_event="b",
                pause_rule="candidate_inactive",
                goal_s=int(goal.total_seconds()),
                warning_fractions=fractions,
                calendar="office",
                published_at=PUBLISHED,
            )
        )


def next_friday_afternoon(now: datetime, *, october: bool) -> datetime:
    """The first Friday 15:00 in London after `now` (the one before October's last Sunday,
    when `october`), so that the following Monday can be a holiday."""
    day = now.astimezone(LONDON).date() + timedelta(days=1)
    while True:
        friday = day.weekday() == 4
        sunday = day + timedelta(days=2)
        last_sunday_of_october = sunday.month == 10 and (sunday + timedelta(days=7)).month == 11
        if friday and (last_sunday_of_october or not october):
            return datetime(day.year, day.month, day.day, 15, tzinfo=LONDON)
        day += timedelta(days=1)


async def skip_to(env: WorkflowEnvironment, moment: datetime) -> None:
    """Let the test server's clock reach `moment`."""
    await env.sleep(moment - await env.get_current_time())


def sla_worker(client: Client, engine: Engine, task_queue: str) -> Worker:
    """A worker for SLA workflows with the production sandbox (`domain` passed through, so
    zoneinfo's objects are real ones); run it with `async with`."""
    activities = SlaActivities(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[SlaWorkflow],
        workflow_runner=SANDBOX,
        activities=[
            activities.open_sla,
            activities.append_sla_event,
            activities.catch_up_sla_with_candidate,
            activities.record_sla_due,
        ],
        activity_executor=ThreadPoolExecutor(4),
    )
