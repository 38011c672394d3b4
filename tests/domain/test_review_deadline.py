"""The reviewer clock's rules over every combination of reminders, due, grace and events."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from domain.review_deadline import (
    ENDS_THE_CLOCK,
    ClockEvent,
    ReviewClock,
    RunningClock,
    Step,
    StepKind,
    due_after,
    earliest_due,
    is_overdue,
    pending_steps,
    reminders_in_window,
    steps_of,
    still_running,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
REMINDERS: list[tuple[timedelta, ...]] = [(), (2 * DAY,), (5 * DAY, DAY), (DAY, 5 * DAY, DAY)]
GRACES: list[timedelta | None] = [None, 3 * DAY]
DUES: list[timedelta | None] = [None, 10 * DAY, timedelta(seconds=90)]


def _running(
    clock: ReviewClock, due_at: datetime = T0 + 10 * DAY, *, overdue: bool = False
) -> RunningClock:
    return RunningClock("a1", due_at, overdue, clock)


@pytest.mark.parametrize(("due", "reminders", "grace"), list(product(DUES, REMINDERS, GRACES)))
def test_steps_are_the_reminders_then_due_then_grace(
    due: timedelta | None, reminders: tuple[timedelta, ...], grace: timedelta | None
) -> None:
    clock = ReviewClock(due=due, reminders_before=reminders, unassign_after=grace)
    armed = due_after(ClockEvent.TAKE, clock, None, T0)
    if due is None:
        assert armed is None
        return
    assert armed == T0 + due
    steps = steps_of(_running(clock, armed))

    kinds = [step.kind for step in steps]
    offsets = sorted(set(reminders), reverse=True)
    assert kinds == [StepKind.REMINDER] * len(offsets) + [StepKind.OVERDUE] + (
        [StepKind.UNASSIGN] if grace else []
    )
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    assert [s.at for s in steps if s.kind == StepKind.REMINDER] == [armed - b for b in offsets]
    assert next(s.at for s in steps if s.kind == StepKind.OVERDUE) == armed
    if grace:
        assert steps[-1].at == armed + grace
    # A reminder that would fall before the sections were taken is never sent.
    pending = pending_steps([_running(clock, armed)], (), T0)
    sent = [s.before for s in pending if s.kind == StepKind.REMINDER]
    assert sent == reminders_in_window(clock, T0)
    assert all(armed - b > T0 for b in sent if b is not None)


@pytest.mark.parametrize(
    ("event", "before", "expected"),
    [
        (ClockEvent.TAKE, None, T0 + 10 * DAY),  # armed
        (ClockEvent.TAKE, T0 - DAY, T0 - DAY),  # more sections: the same due date
        (ClockEvent.START, T0 - DAY, T0 - DAY),  # a first start keeps it
        (ClockEvent.START, None, None),
        (ClockEvent.RESTART, T0 - DAY, None),
        (ClockEvent.SUBMIT, T0 - DAY, None),
        (ClockEvent.UNASSIGN, T0 - DAY, None),
        (ClockEvent.AUTO_UNASSIGN, T0 - DAY, None),
        (ClockEvent.CLOSE, T0 - DAY, None),
    ],
)
def test_events_arm_keep_or_end_the_clock(
    event: ClockEvent, before: datetime | None, expected: datetime | None
) -> None:
    clock = ReviewClock(due=10 * DAY, reminders_before=(2 * DAY,))
    assert due_after(event, clock, before, T0) == expected


@pytest.mark.parametrize("event", sorted(ENDS_THE_CLOCK))
def test_taking_sections_after_an_ending_event_arms_a_fresh_clock(event: ClockEvent) -> None:
    clock = ReviewClock(due=10 * DAY)
    first = due_after(ClockEvent.TAKE, clock, None, T0)
    ended = due_after(event, clock, first, T0 + 4 * DAY)
    again = due_after(ClockEvent.TAKE, clock, ended, T0 + 5 * DAY)

    assert ended is None
    assert again == T0 + 15 * DAY
    assert first is not None
    assert again > first


def test_an_untimed_stage_never_arms() -> None:
    assert due_after(ClockEvent.TAKE, ReviewClock(), None, T0) is None


@pytest.mark.parametrize(("overdue", "grace"), list(product([False, True], GRACES)))
def test_done_steps_and_an_overdue_mark_are_not_repeated(
    overdue: bool, grace: timedelta | None
) -> None:
    clock = ReviewClock(due=10 * DAY, reminders_before=(5 * DAY, DAY), unassign_after=grace)
    running = _running(clock, overdue=overdue)
    all_steps = steps_of(running)
    first_reminder = all_steps[0]

    pending = pending_steps([running], {first_reminder}, T0)

    assert first_reminder not in pending
    kinds = [s.kind for s in pending]
    if overdue:  # once marked, only the grace is left
        assert kinds == ([StepKind.UNASSIGN] if grace else [])
    else:
        assert kinds == [StepKind.REMINDER, StepKind.OVERDUE] + (
            [StepKind.UNASSIGN] if grace else []
        )


def test_a_reminder_that_passed_is_skipped_but_a_passed_due_date_fires_at_once() -> None:
    clock = ReviewClock(due=10 * DAY, reminders_before=(2 * DAY,), unassign_after=3 * DAY)
    running = _running(clock)
    late = T0 + 11 * DAY  # e.g. the workflow was resumed after the due date

    pending = pending_steps([running], (), late)

    assert [s.kind for s in pending] == [StepKind.OVERDUE, StepKind.UNASSIGN]
    assert pending[0].at < late


def test_the_earliest_step_of_several_clocks_comes_first() -> None:
    clock = ReviewClock(due=10 * DAY, reminders_before=(2 * DAY,))
    soon = RunningClock("b", T0 + 3 * DAY, False, clock)
    later = RunningClock("a", T0 + 10 * DAY, False, clock)

    pending = pending_steps([later, soon], (), T0)

    assert [(s.assignment_id, s.kind) for s in pending] == [
        ("b", StepKind.REMINDER),
        ("b", StepKind.OVERDUE),
        ("a", StepKind.REMINDER),
        ("a", StepKind.OVERDUE),
    ]


def test_a_step_applies_only_to_the_clock_it_was_planned_on() -> None:
    planned = T0 + 10 * DAY
    assert still_running(planned, planned)
    assert not still_running(None, planned)  # ended (submitted, restarted, given back)
    assert not still_running(planned + DAY, planned)  # a fresh clock since


@pytest.mark.parametrize(
    ("due_at", "now", "expected"),
    [(None, T0, False), (T0 + DAY, T0, False), (T0, T0, True), (T0 - DAY, T0, True)],
)
def test_overdue_once_the_due_date_comes(
    due_at: datetime | None, now: datetime, expected: bool
) -> None:
    assert is_overdue(due_at, now) is expected


def test_the_console_shows_the_oldest_overdue_first_else_the_next_due() -> None:
    assert earliest_due([]) is None
    assert earliest_due([(T0 + DAY, False), (T0, False)]) == (T0, False)
    assert earliest_due([(T0, False), (T0 + DAY, True), (T0 + 2 * DAY, True)]) == (
        T0 + DAY,
        True,
    )


def test_step_summaries_name_the_timer() -> None:
    step = Step("a", T0, StepKind.REMINDER, T0 - DAY, DAY)
    assert "reminder" in step.summary
    assert Step("a", T0, StepKind.OVERDUE, T0).summary == "review due"
