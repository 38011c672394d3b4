"""The SLA report's SQL counts working time exactly as domain/calendar.py does: for any log
on any calendar (three zones, their DST changes, holidays), elapsed and paused agree."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from api.services import report_queries as queries
from domain.calendar import BusinessCalendar, parse_week, week_text
from domain.sla import SlaEvent, SlaEventKind, accepts, elapsed, paused, status
from models.report import SlaFilters
from models.sla import SlaCalendar, SlaInstance, SlaLogEntry
from tests.domain.test_calendar import cases

DEFINITION = "result_complete_to_release"  # seeded by migration 0007, version 1
# Up to a day and a half between events, to the microsecond.
GAPS = st.integers(min_value=0, max_value=36 * 3600 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)


def _seed(engine: Engine, calendar: BusinessCalendar, log: list[SlaEvent]) -> str:
    """The calendar as a new code's version 1 and an instance on it timed by `log`."""
    code, subject = f"cal-{uuid.uuid4().hex[:12]}", f"result:{uuid.uuid4()}"
    stop = log[-1].at if log[-1].kind == SlaEventKind.STOP else None
    with Session(engine) as session, session.begin():
        session.add(
            SlaCalendar(
                code=code,
                version=1,
                timezone=calendar.timezone,
                working_hours=week_text(calendar.week),
                holidays=sorted(day.isoformat() for day in calendar.holidays),
                published_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        instance = SlaInstance(
            id=f"{DEFINITION}:{subject}",
            definition=DEFINITION,
            version=1,
            subject=subject,
            status=status(log, breached=False),
            goal_s=16 * 3600,
            calendar=code,
            calendar_version=1,
            started_at=log[0].at,
            stopped_at=stop,
        )
        session.add(instance)
        session.flush()
        for seq, event in enumerate(log):
            session.add(SlaLogEntry(instance_id=instance.id, seq=seq, kind=event.kind, at=event.at))
    return subject


def _row(engine: Engine, subject: str, now: datetime) -> dict[str, Any]:
    with Session(engine) as session:
        statement = queries.sla(SlaFilters(subject=subject), now=now)
        [row] = session.execute(statement).mappings().all()
    return dict(row)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases(), data=st.data())
def test_working_elapsed_and_paused_in_sql_are_the_domain_arithmetic(
    db: Engine, case: tuple[BusinessCalendar, datetime, datetime], data: st.DataObject
) -> None:
    calendar, at, _ = case
    at += timedelta(microseconds=data.draw(st.integers(0, 59 * 10**6)))
    log = [SlaEvent(SlaEventKind.START, at)]
    for _ in range(data.draw(st.integers(min_value=0, max_value=5))):
        at += data.draw(GAPS)
        kind = SlaEventKind.PAUSE if accepts(log, SlaEventKind.PAUSE) else SlaEventKind.RESUME
        log.append(SlaEvent(kind, at))
    if data.draw(st.booleans()):
        at += data.draw(GAPS)
        log.append(SlaEvent(SlaEventKind.STOP, at))
    now = at + data.draw(GAPS)
    end = log[-1].at if log[-1].kind == SlaEventKind.STOP else now

    row = _row(db, _seed(db, calendar, log), now)

    assert row["elapsed_s"] == pytest.approx(elapsed(log, end, calendar).total_seconds(), abs=1e-6)
    assert row["paused_s"] == pytest.approx(paused(log, end, calendar).total_seconds(), abs=1e-6)
    assert row["calendar_version"] == 1
    assert row["goal_s"] == 16 * 3600


def test_an_instance_on_a_calendar_counts_no_time_outside_working_hours(db: Engine) -> None:
    office = BusinessCalendar("Europe/London", parse_week({"mon": [["09:00", "17:00"]]}))
    saturday = datetime(2026, 11, 28, 9, tzinfo=UTC)
    subject = _seed(db, office, [SlaEvent(SlaEventKind.START, saturday)])

    weekend = _row(db, subject, saturday + timedelta(days=1, hours=12))
    monday = _row(db, subject, saturday + timedelta(days=2, hours=2))  # Monday 11:00

    assert (weekend["elapsed_s"], weekend["paused_s"]) == (0, 0)
    assert monday["elapsed_s"] == 2 * 3600
