"""Builders for SLAs on a business calendar: an office calendar, a definition on it, and
the test server's clock moved to a Friday afternoon."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from domain.calendar import WEEKDAYS
from models.sla import SlaCalendar, SlaDefinition

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
