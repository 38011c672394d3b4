"""A reviewer's clock: when a review taken falls due, its reminders, overdue, auto-unassign.

Pure rules (decision 0095). A clock runs on an assignment from the moment its reviewer
takes sections (`due_at` = then + the stage's `review_due`) until the review is submitted
or restarted, or the sections are given back (unassigned by an assigner or by the grace
running out). Taking more sections while it runs keeps the due date; taking sections again
after it ended arms a fresh one. The workflow keeps one durable timer for the earliest step
of all running clocks; the activities re-check the clock under lock before acting.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class StepKind(StrEnum):
    """What a clock does at one of its moments."""

    REMINDER = "reminder"  # the reviewer is reminded (`before` the due date)
    OVERDUE = "overdue"  # the review is overdue: the template's assigners are told
    UNASSIGN = "unassign"  # the grace ran out: the sections go back to the pool


class ClockEvent(StrEnum):
    """What happens to an assignment that starts, keeps or ends its clock."""

    TAKE = "take"  # sections taken (assigned, self-assigned, or reassigned)
    START = "start"  # the review's first start: the clock keeps running
    RESTART = "restart"  # a returned review's new round
    SUBMIT = "submit"
    UNASSIGN = "unassign"  # an assigner takes the sections back
    AUTO_UNASSIGN = "auto_unassign"  # the grace after the due date ran out
    CLOSE = "close"  # the level or the case closed (withdrawn, completed, moved on)


@dataclass(frozen=True)
class ReviewClock:
    """A stage's deadline settings (None: not timed / never taken away)."""

    due: timedelta | None = None
    reminders_before: tuple[timedelta, ...] = ()
    unassign_after: timedelta | None = None

    @property
    def timed(self) -> bool:
        return self.due is not None


@dataclass(frozen=True)
class Step:
    """One moment of a running clock."""

    assignment_id: str
    due_at: datetime
    kind: StepKind
    at: datetime
    before: timedelta | None = None  # a reminder's offset

    @property
    def summary(self) -> str:
        """The timer's name in the Temporal UI."""
        if self.kind == StepKind.REMINDER:
            return f"review reminder {self.before} before due"
        if self.kind == StepKind.OVERDUE:
            return "review due"
        return "review auto-unassign"


@dataclass(frozen=True)
class RunningClock:
    """An assignment whose clock runs: its due date and whether it was marked overdue."""

    assignment_id: str
    due_at: datetime
    overdue: bool
    clock: ReviewClock


ENDS_THE_CLOCK = frozenset(
    {
        ClockEvent.RESTART,
        ClockEvent.SUBMIT,
        ClockEvent.UNASSIGN,
        ClockEvent.AUTO_UNASSIGN,
        ClockEvent.CLOSE,
    }
)


def due_after(
    event: ClockEvent, clock: ReviewClock, due_at: datetime | None, at: datetime
) -> datetime | None:
    """The assignment's due date after `event` at `at` (`due_at`: the one before).

    Taking sections arms a clock when none runs (a reassigned review gets a fresh date) and
    keeps a running one; a first start keeps it; everything else ends it."""
    if event in ENDS_THE_CLOCK:
        return None
    if event == ClockEvent.TAKE and due_at is None and clock.due is not None:
        return at + clock.due
    return due_at


def steps_of(running: RunningClock) -> tuple[Step, ...]:
    """Every moment of a running clock, in order: the reminders (strictly before the due
    date, each offset once), the due date, and the auto-unassign when the stage sets it."""
    clock, due_at, name = running.clock, running.due_at, running.assignment_id
    steps = [
        Step(name, due_at, StepKind.REMINDER, due_at - before, before)
        for before in sorted(set(clock.reminders_before), reverse=True)
        if before > timedelta(0)
    ]
    steps.append(Step(name, due_at, StepKind.OVERDUE, due_at))
    if clock.unassign_after is not None:
        steps.append(Step(name, due_at, StepKind.UNASSIGN, due_at + clock.unassign_after))
    return tuple(steps)


def pending_steps(
    running: Iterable[RunningClock], done: Iterable[Step], now: datetime
) -> list[Step]:
    """The steps still to come, earliest first.

    A step already `done` is not repeated; a reminder whose moment passed before the clock
    was seen is skipped (never sent late); the due date of a review already marked overdue
    is done; an overdue mark or an auto-unassign whose moment passed is due at once."""
    finished = set(done)
    found: list[Step] = []
    for clock in running:
        for step in steps_of(clock):
            if step in finished:
                continue
            if step.kind == StepKind.REMINDER and (clock.overdue or step.at <= now):
                continue
            if step.kind == StepKind.OVERDUE and clock.overdue:
                continue
            found.append(step)
    return sorted(found, key=lambda step: (step.at, step.assignment_id, step.kind))


def reminders_in_window(clock: ReviewClock, taken_at: datetime) -> list[timedelta]:
    """The reminders a clock armed at `taken_at` will send (those falling after it)."""
    if clock.due is None:
        return []
    due_at = taken_at + clock.due
    return [
        before
        for before in sorted(set(clock.reminders_before), reverse=True)
        if timedelta(0) < before and due_at - before > taken_at
    ]


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    """A running clock is overdue once its due date has come."""
    return due_at is not None and due_at <= now


def still_running(due_at: datetime | None, expected: datetime) -> bool:
    """An activity acts on a step only while the clock it was planned on still runs."""
    return due_at is not None and due_at == expected


def earliest_due(clocks: Sequence[tuple[datetime, bool]]) -> tuple[datetime, bool] | None:
    """The earliest due date of running clocks (`overdue` first: the oldest overdue one)."""
    if not clocks:
        return None
    overdue = [due for due, late in clocks if late]
    if overdue:
        return min(overdue), True
    return min(due for due, _ in clocks), False
