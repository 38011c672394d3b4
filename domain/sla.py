"""SLA arithmetic from an append-only log: elapsed and paused time, what falls due next.

Time is an argument everywhere: the workflow passes `workflow.now()`, reads pass the
moment they are asked about.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.calendar import BusinessCalendar, instant_after, working_seconds_between


class SlaEventKind(StrEnum):
    """One row of an SLA's log."""

    START = "START"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    STOP = "STOP"


class SlaStatus(StrEnum):
    """Where a timed service level stands."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    MET = "MET"
    BREACHED = "BREACHED"
    CANCELLED = "CANCELLED"  # an operator cancelled its workflow: the clock stopped there


@dataclass(frozen=True)
class SlaEvent:
    """A log row: what happened, when."""

    kind: SlaEventKind
    at: datetime


@dataclass(frozen=True)
class Due:
    """A threshold still to pass: a warning at `fraction` of the goal, or the breach (1.0)."""

    fraction: float
    running_time: timedelta

    @property
    def is_breach(self) -> bool:
        """The goal itself."""
        return self.fraction >= 1.0


def accepts(log: Sequence[SlaEvent], kind: SlaEventKind) -> bool:
    """Whether `kind` may follow `log` (a pause while paused, or anything after STOP, is not)."""
    state = _state(log)
    allowed = {
        None: {SlaEventKind.START},
        SlaEventKind.START: {SlaEventKind.PAUSE, SlaEventKind.STOP},
        SlaEventKind.RESUME: {SlaEventKind.PAUSE, SlaEventKind.STOP},
        SlaEventKind.PAUSE: {SlaEventKind.RESUME, SlaEventKind.STOP},
        SlaEventKind.STOP: set(),
    }
    return kind in allowed[state]


def catch_up(log: Sequence[SlaEvent], *, candidate_active: bool) -> SlaEventKind | None:
    """The row that brings the log in line with its candidate: a pause while the candidate
    is inactive, a resume once active again; None when it already agrees (or stopped)."""
    kind = SlaEventKind.RESUME if candidate_active else SlaEventKind.PAUSE
    return kind if accepts(log, kind) else None


def _state(log: Sequence[SlaEvent]) -> SlaEventKind | None:
    return log[-1].kind if log else None


def is_running(log: Sequence[SlaEvent]) -> bool:
    """Started, not paused, not stopped."""
    return _state(log) in (SlaEventKind.START, SlaEventKind.RESUME)


def between(calendar: BusinessCalendar | None, a: datetime, b: datetime) -> timedelta:
    """Time counted from a to b: wall time, or working time when there is a calendar."""
    if calendar is None:
        return b - a
    return timedelta(seconds=working_seconds_between(calendar, a, b))


def elapsed(
    log: Sequence[SlaEvent], now: datetime, calendar: BusinessCalendar | None = None
) -> timedelta:
    """Running time: from start to now (or stop), without the paused intervals (working
    time only, with a calendar)."""
    total = timedelta()
    running_since: datetime | None = None
    for event in log:
        if event.kind in (SlaEventKind.START, SlaEventKind.RESUME):
            running_since = event.at
        elif running_since is not None:  # PAUSE or STOP
            total += between(calendar, running_since, event.at)
            running_since = None
    if running_since is not None:
        total += max(between(calendar, running_since, now), timedelta())
    return total


def paused(
    log: Sequence[SlaEvent], now: datetime, calendar: BusinessCalendar | None = None
) -> timedelta:
    """Time spent paused (up to now, or to the stop; working time only, with a calendar)."""
    total = timedelta()
    paused_since: datetime | None = None
    for event in log:
        if event.kind == SlaEventKind.PAUSE:
            paused_since = event.at
        elif paused_since is not None and event.kind in (SlaEventKind.RESUME, SlaEventKind.STOP):
            total += between(calendar, paused_since, event.at)
            paused_since = None
    if paused_since is not None:
        total += max(between(calendar, paused_since, now), timedelta())
    return total


def thresholds(goal: timedelta, fractions: Sequence[float]) -> list[Due]:
    """Every warning fraction below 1, then the breach, in order of running time."""
    points = [*sorted({f for f in fractions if 0 < f < 1}), 1.0]
    return [Due(fraction=f, running_time=goal * f) for f in points]


def next_due(
    log: Sequence[SlaEvent],
    now: datetime,
    goal: timedelta,
    fractions: Sequence[float],
    passed: Sequence[float],
    calendar: BusinessCalendar | None = None,
) -> tuple[Due, datetime] | None:
    """The next threshold not yet recorded and the moment it falls due (None when paused,
    stopped, or everything has passed). With a calendar the running time and goal are
    working time, and the moment is the wall instant at which working time reaches it
    (None too when that lies beyond the calendar's horizon)."""
    if not is_running(log):
        return None
    done = set(passed)
    running = elapsed(log, now, calendar)
    for due in thresholds(goal, fractions):
        if due.fraction not in done:
            left = max(due.running_time - running, timedelta())
            if calendar is None:
                return due, now + left
            moment = instant_after(calendar, now, left.total_seconds())
            return None if moment is None else (due, moment)
    return None


def status(log: Sequence[SlaEvent], breached: bool) -> SlaStatus:
    """BREACHED once the goal passed; else RUNNING, PAUSED, or MET when stopped in time."""
    if breached:
        return SlaStatus.BREACHED
    state = _state(log)
    if state == SlaEventKind.STOP:
        return SlaStatus.MET
    if state == SlaEventKind.PAUSE:
        return SlaStatus.PAUSED
    return SlaStatus.RUNNING
