"""Working-time arithmetic against a brute-force oracle that reads the wall clock minute by
minute, across DST changes in three zones (one with a 30-minute shift) and holidays."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    WorkingRange,
    instant_after,
    parse_week,
    week_text,
    working_seconds_between,
    zone_problem,
)
from domain.sla import SlaEvent, SlaEventKind, elapsed, next_due, paused, thresholds

MINUTE = timedelta(minutes=1)
# Each zone's DST changes in 2026 (UTC instants), the middle of the windows drawn from.
CHANGES = {
    "Europe/London": [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)],
    "America/New_York": [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)],
    "Australia/Lord_Howe": [
        datetime(2026, 4, 4, 15, tzinfo=UTC),
        datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    ],
}
OFFICE = {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}


def is_working(calendar: BusinessCalendar, at: datetime) -> bool:
    """The oracle's rule: the wall-clock reading of `at` in a range of its day, no holiday."""
    local = at.astimezone(ZoneInfo(calendar.timezone))
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    ranges = calendar.week[local.weekday()]
    return local.date() not in calendar.holidays and any(
        r.start_s <= seconds < r.end_s for r in ranges
    )


def oracle_seconds(calendar: BusinessCalendar, a: datetime, b: datetime) -> float:
    """Working seconds in [a, b), counted a whole minute at a time."""
    minutes, at = 0, a
    while at < b:
        minutes += is_working(calendar, at)
        at += MINUTE
    return minutes * 60.0


def oracle_after(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """The end of the `minutes`-th working minute from `start`."""
    at, counted = start, 0
    while True:
        if is_working(calendar, at):
            counted += 1
            if counted == minutes:
                return at + MINUTE
        at += MINUTE


@st.composite
def day_ranges(draw: st.DrawFn) -> tuple[WorkingRange, ...]:
    """Up to three disjoint whole-minute ranges of one day (edges often near 01:00-03:00)."""
    edges = st.one_of(
        st.integers(min_value=0, max_value=1440), st.integers(min_value=50, max_value=190)
    )
    points = sorted(draw(st.sets(edges, max_size=6)))
    pairs = list(zip(points[0::2], points[1::2], strict=False))
    return tuple(WorkingRange(a * 60, b * 60) for a, b in pairs if b > a)


@st.composite
def cases(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime, datetime]:
    """A calendar in one of the zones, and a window of up to four days around a change."""
    zone = draw(st.sampled_from(sorted(CHANGES)))
    week = tuple(draw(day_ranges()) for _ in WEEKDAYS)
    if not any(week):
        week = (
            (WorkingRange(draw(st.integers(0, 23)) * 3600, 86400),),
            *week[1:],
        )
    change = draw(st.sampled_from(CHANGES[zone]))
    a = change + MINUTE * draw(st.integers(min_value=-3 * 1440, max_value=1440))
    b = a + MINUTE * draw(st.integers(min_value=0, max_value=4 * 1440))
    days = [(change + timedelta(days=d)).date() for d in range(-3, 4)]
    holidays = frozenset(draw(st.lists(st.sampled_from(days), max_size=3)))
    return BusinessCalendar(zone, week, holidays), a, b


@settings(max_examples=80, deadline=None)
@given(cases())
def test_working_seconds_are_the_minutes_the_wall_clock_says_are_working(
    case: tuple[BusinessCalendar, datetime, datetime],
) -> None:
    calendar, a, b = case
    assert working_seconds_between(calendar, a, b) == oracle_seconds(calendar, a, b)


@settings(max_examples=80, deadline=None)
@given(cases(), st.integers(min_value=1, max_value=3 * 600))
def test_instant_after_is_where_the_oracle_counts_that_much_working_time(
    case: tuple[BusinessCalendar, datetime, datetime], minutes: int
) -> None:
    calendar, start, _ = case
    found = instant_after(calendar, start, minutes * 60)

    assert found == oracle_after(calendar, start, minutes)
    assert found is not None
    assert working_seconds_between(calendar, start, found) == minutes * 60


@settings(max_examples=40, deadline=None)
@given(cases(), st.integers(min_value=0, max_value=2 * 1440), st.integers(0, 2 * 1440))
def test_pauses_in_working_time_add_up_to_the_working_span(
    case: tuple[BusinessCalendar, datetime, datetime], pause_at: int, pause_for: int
) -> None:
    calendar, a, b = case
    log = [
        SlaEvent(SlaEventKind.START, a),
        SlaEvent(SlaEventKind.PAUSE, a + MINUTE * pause_at),
        SlaEvent(SlaEventKind.RESUME, a + MINUTE * (pause_at + pause_for)),
    ]
    now = max(b, log[-1].at)
    running, stopped = elapsed(log, now, calendar), paused(log, now, calendar)

    assert (running + stopped).total_seconds() == oracle_seconds(calendar, a, now)
    assert stopped.total_seconds() == oracle_seconds(calendar, log[1].at, log[2].at)


def _office(zone: str, *holidays: date) -> BusinessCalendar:
    return BusinessCalendar(zone, parse_week(OFFICE), frozenset(holidays))


@pytest.mark.parametrize(
    ("start", "holiday", "breach"),
    [
        ("2026-11-20T15:00", date(2026, 11, 23), "2026-11-25T15:00"),  # no DST change
        ("2026-10-23T15:00", date(2026, 10, 26), "2026-10-28T15:00"),  # across 25 October
    ],
)
def test_sixteen_working_hours_from_friday_afternoon_end_on_wednesday(
    start: str, holiday: date, breach: str
) -> None:
    london = ZoneInfo("Europe/London")
    calendar = _office("Europe/London", holiday)
    begin = datetime.fromisoformat(start).replace(tzinfo=london)

    due = next_due(
        [SlaEvent(SlaEventKind.START, begin)], begin, timedelta(hours=16), [], [], calendar
    )

    assert due is not None
    assert due[1] == datetime.fromisoformat(breach).replace(tzinfo=london)
    assert due[1].astimezone(london).hour == 15


def test_a_range_whose_edge_is_in_the_skipped_hour_counts_only_instants_inside_it() -> None:
    calendar = BusinessCalendar(
        "Europe/London",
        parse_week({"sun": [["01:30", "04:00"]]}),  # 01:00-02:00 does not exist on 29 March
    )
    day = datetime(2026, 3, 29, tzinfo=UTC)
    assert working_seconds_between(calendar, day, day + timedelta(days=1)) == 2 * 3600
    autumn = datetime(2026, 10, 25, tzinfo=UTC)  # 01:00-02:00 happens twice
    assert (
        working_seconds_between(calendar, autumn, autumn + timedelta(days=1)) == 3 * 3600
    )  # 01:30-02:00 BST, then 01:30-04:00 GMT


def test_a_warning_falls_due_at_its_fraction_of_working_time() -> None:
    calendar = _office("America/New_York")
    monday = datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT, the day after the change
    points = thresholds(timedelta(hours=16), [0.5])
    due = next_due(
        [SlaEvent(SlaEventKind.START, monday)], monday, points[-1].running_time, [0.5], [], calendar
    )
    assert due is not None
    assert due[1] == monday + timedelta(hours=8)  # 17:00 EDT on Monday


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
        ({"mon": [["22:00", "06:00"]]}, "cross midnight"),
        ({"mon": [["09:00", "25:00"]]}, "not a time of day"),
        ({"mon": [["24:00", "24:00"]]}, "not a time of day"),
        ({"xyz": [["09:00", "10:00"]]}, "unknown weekday"),
        ({"sat": []}, "at least one working range"),
    ],
)
def test_bad_weeks_are_refused_with_the_reason(
    hours: dict[str, list[list[str]]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_week(hours)


def test_a_week_reads_back_as_it_was_written_and_zones_are_checked() -> None:
    hours = {"mon": [["13:00", "24:00"], ["00:00", "08:30"]], "fri": [["09:00", "17:00"]]}
    shown = week_text(parse_week(hours))
    assert shown["mon"] == [["00:00", "08:30"], ["13:00", "24:00"]]
    assert shown["fri"] == [["09:00", "17:00"]]
    assert shown["sun"] == []
    assert zone_problem("Europe/London") is None
    assert zone_problem("Mars/Olympus") is not None
    assert zone_problem("../etc/passwd") is not None
