"""SLA arithmetic over any interleaving of pauses and resumes (property-based)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.sla import (
    Due,
    SlaEvent,
    SlaEventKind,
    SlaStatus,
    accepts,
    elapsed,
    next_due,
    paused,
    status,
    thresholds,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
START, PAUSE, RESUME, STOP = (
    SlaEventKind.START,
    SlaEventKind.PAUSE,
    SlaEventKind.RESUME,
    SlaEventKind.STOP,
)


def log_of(*steps: tuple[SlaEventKind, float]) -> list[SlaEvent]:
    """A log from (kind, day offset) pairs."""
    return [SlaEvent(kind, T0 + DAY * day) for kind, day in steps]


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[SlaEvent], datetime]:
    """A valid log (pauses and resumes alternating, maybe a stop) and a later `now`."""
    gaps = draw(st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
    at = T0
    log = [SlaEvent(START, at)]
    for gap in gaps:
        at += timedelta(minutes=gap)
        kind = PAUSE if log[-1].kind in (START, RESUME) else RESUME
        log.append(SlaEvent(kind, at))
    if draw(st.booleans()):
        at += timedelta(minutes=draw(st.integers(min_value=0, max_value=10_000)))
        log.append(SlaEvent(STOP, at))
    now = at + timedelta(minutes=draw(st.integers(min_value=0, max_value=10_000)))
    return log, now


@given(logs())
def test_running_and_paused_time_add_up_to_the_whole_span(
    case: tuple[list[SlaEvent], datetime],
) -> None:
    log, now = case
    end = log[-1].at if log[-1].kind == STOP else now

    assert elapsed(log, now) + paused(log, now) == end - log[0].at
    assert elapsed(log, now) >= timedelta()
    assert paused(log, now) >= timedelta()


@given(logs(), st.integers(min_value=1, max_value=100_000))
def test_time_stands_still_while_paused_or_stopped(
    case: tuple[list[SlaEvent], datetime], later_minutes: int
) -> None:
    log, now = case
    later = now + timedelta(minutes=later_minutes)
    if log[-1].kind in (PAUSE, STOP):
        assert elapsed(log, later) == elapsed(log, now)
    else:
        assert elapsed(log, later) - elapsed(log, now) == later - now


@given(logs())
def test_the_next_due_moment_is_exactly_the_remaining_running_time(
    case: tuple[list[SlaEvent], datetime],
) -> None:
    log, now = case
    goal = timedelta(days=10)

    found = next_due(log, now, goal, (0.5, 0.75), passed=())

    if log[-1].kind in (PAUSE, STOP):
        assert found is None
    else:
        assert found is not None
        due, moment = found
        assert due.fraction == 0.5
        assert moment == now + max(goal / 2 - elapsed(log, now), timedelta())


def test_ten_day_goal_paused_on_day_3_for_20_days() -> None:
    log = log_of((START, 0), (PAUSE, 3), (RESUME, 23))
    goal = timedelta(days=10)

    first = next_due(log, T0 + DAY * 23, goal, (0.5, 0.75), passed=())
    second = next_due(log, T0 + DAY * 25, goal, (0.5, 0.75), passed=(0.5,))
    breach = next_due(log, T0 + DAY * 27.5, goal, (0.5, 0.75), passed=(0.5, 0.75))

    assert first == (Due(0.5, goal / 2), T0 + DAY * 25)
    assert second == (Due(0.75, goal * 0.75), T0 + DAY * 27.5)
    assert breach == (Due(1.0, goal), T0 + DAY * 30)
    assert next_due(log, T0 + DAY * 30, goal, (0.5, 0.75), passed=(0.5, 0.75, 1.0)) is None
    assert paused(log, T0 + DAY * 30) == DAY * 20


@pytest.mark.parametrize(
    ("steps", "breached", "expected"),
    [
        ([(START, 0)], False, SlaStatus.RUNNING),
        ([(START, 0), (PAUSE, 1)], False, SlaStatus.PAUSED),
        ([(START, 0), (PAUSE, 1), (RESUME, 2)], False, SlaStatus.RUNNING),
        ([(START, 0), (STOP, 1)], False, SlaStatus.MET),
        ([(START, 0), (PAUSE, 1), (STOP, 2)], False, SlaStatus.MET),
        ([(START, 0)], True, SlaStatus.BREACHED),
        ([(START, 0), (STOP, 11)], True, SlaStatus.BREACHED),
    ],
)
def test_status(
    steps: list[tuple[SlaEventKind, float]], breached: bool, expected: SlaStatus
) -> None:
    assert status(log_of(*steps), breached) == expected


@pytest.mark.parametrize(
    ("steps", "kind", "ok"),
    [
        ([], START, True),
        ([], PAUSE, False),
        ([(START, 0)], START, False),
        ([(START, 0)], PAUSE, True),
        ([(START, 0)], RESUME, False),
        ([(START, 0), (PAUSE, 1)], PAUSE, False),
        ([(START, 0), (PAUSE, 1)], RESUME, True),
        ([(START, 0), (PAUSE, 1)], STOP, True),
        ([(START, 0), (STOP, 1)], RESUME, False),
        ([(START, 0), (STOP, 1)], STOP, False),
    ],
)
def test_which_rows_may_follow(
    steps: list[tuple[SlaEventKind, float]], kind: SlaEventKind, ok: bool
) -> None:
    assert accepts(log_of(*steps), kind) is ok


def test_thresholds_ignore_fractions_outside_the_goal_and_end_with_the_breach() -> None:
    goal = timedelta(days=4)

    points = thresholds(goal, (0.75, 0.5, 1.5, 0.0, 0.5))

    assert [(d.fraction, d.running_time, d.is_breach) for d in points] == [
        (0.5, DAY * 2, False),
        (0.75, DAY * 3, False),
        (1.0, DAY * 4, True),
    ]
