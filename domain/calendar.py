"""Business calendars: which instants are working time, and working-time arithmetic.

An instant is working time when its wall-clock reading in the calendar's zone falls inside
one of the ranges of its weekday (start included, end excluded) and its local date is not
a holiday. So a range keeps its wall-clock meaning across DST changes: 09:00-17:00 is 7
hours on a spring-forward day only if the jump falls inside it, and a range whose edge sits
in a skipped or repeated hour counts exactly the instants whose reading is inside it.
A range never crosses midnight (split it: 22:00-24:00 and the next day's 00:00-06:00).
"""

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_S = 86400
MAX_RANGES_A_DAY = 12
MAX_HOLIDAYS = 2000
# How far ahead `instant_after` looks for working time before it gives up (None).
HORIZON = timedelta(days=366 * 50)
_STEP = timedelta(hours=6)  # zones change offset at most once in this long


@dataclass(frozen=True, order=True)
class WorkingRange:
    """A range of one weekday, in seconds after local midnight (end <= 86400)."""

    start_s: int
    end_s: int


@dataclass(frozen=True)
class BusinessCalendar:
    """A zone, each weekday's ranges (Monday first, sorted, disjoint) and holiday dates."""

    timezone: str
    week: tuple[tuple[WorkingRange, ...], ...]
    holidays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's IANA zone."""
        return ZoneInfo(self.timezone)


def clock_text(seconds: int) -> str:
    """`HH:MM` for seconds after midnight (86400 is `24:00`)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def parse_clock(text: str, *, end: bool) -> int:
    """Seconds after midnight of `HH:MM` (`24:00` only as an end); ValueError otherwise."""
    hours, sep, minutes = text.partition(":")
    digits = hours + minutes
    if not (
        sep and len(hours) == 2 and len(minutes) == 2 and digits.isascii() and digits.isdigit()
    ):
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    seconds = int(hours) * 3600 + int(minutes) * 60
    if int(minutes) > 59 or seconds > DAY_S or (seconds == DAY_S and not end):
        raise ValueError(f"{text!r} is not a time of day HH:MM (24:00 only as an end)")
    return seconds


def zone_problem(timezone: str) -> str | None:
    """Why `timezone` is not an IANA zone name (None when it is one)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{timezone!r} is not an IANA time zone (e.g. Europe/London)"
    return None


def parse_day(weekday: str, ranges: Sequence[Sequence[str]]) -> tuple[WorkingRange, ...]:
    """One weekday's `[["09:00","12:00"], ...]`, sorted; ValueError names what is wrong."""
    if len(ranges) > MAX_RANGES_A_DAY:
        raise ValueError(f"{weekday}: at most {MAX_RANGES_A_DAY} ranges a day")
    parsed: list[WorkingRange] = []
    for pair in ranges:
        if len(pair) != 2:
            raise ValueError(f"{weekday}: each range is [start, end], e.g. ['09:00', '17:00']")
        start, end = parse_clock(pair[0], end=False), parse_clock(pair[1], end=True)
        if end <= start:
            raise ValueError(
                f"{weekday}: range {pair[0]}-{pair[1]} does not end after it starts; a range "
                "may not cross midnight: split it into ['22:00', '24:00'] and the next "
                "day's ['00:00', '06:00']"
            )
        parsed.append(WorkingRange(start, end))
    parsed.sort()
    for before, after in itertools.pairwise(parsed):
        if after.start_s < before.end_s:
            raise ValueError(
                f"{weekday}: ranges {clock_text(before.start_s)}-{clock_text(before.end_s)} "
                f"and {clock_text(after.start_s)}-{clock_text(after.end_s)} overlap"
            )
    return tuple(parsed)


def parse_week(
    working_hours: Mapping[str, Sequence[Sequence[str]]],
) -> tuple[tuple[WorkingRange, ...], ...]:
    """The seven weekdays' ranges from `{"mon": [...], ...}` (absent days have none)."""
    unknown = sorted(set(working_hours) - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"unknown weekday {unknown[0]!r}: use {', '.join(WEEKDAYS)}")
    week = tuple(parse_day(day, working_hours.get(day, [])) for day in WEEKDAYS)
    if not any(week):
        raise ValueError("a calendar needs at least one working range")
    return week


def week_text(week: Sequence[Sequence[WorkingRange]]) -> dict[str, list[list[str]]]:
    """The week as the API shows it: `{"mon": [["09:00","17:00"]], ...}`."""
    return {
        day: [[clock_text(r.start_s), clock_text(r.end_s)] for r in ranges]
        for day, ranges in zip(WEEKDAYS, week, strict=True)
    }


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _change_after(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """The first instant in (lo, hi] with hi's offset (zones change on whole seconds)."""
    target = _offset(zone, hi)
    low, high = math.floor(lo.timestamp()), math.ceil(hi.timestamp())
    while high - low > 1:
        mid = (low + high) // 2
        if _offset(zone, datetime.fromtimestamp(mid, UTC)) == target:
            high = mid
        else:
            low = mid
    return max(datetime.fromtimestamp(high, UTC), lo)


def _pieces(
    zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime, timedelta]]:
    """[start, end) cut where the zone's UTC offset changes: (from, to, offset) each."""
    lo, offset = start, _offset(zone, start)
    probe = start
    while probe < end:
        nxt = min(probe + _STEP, end)
        if _offset(zone, nxt) != offset:
            change = _change_after(zone, probe, nxt)
            yield lo, change, offset
            lo, offset = change, _offset(zone, change)
        probe = nxt
    if lo < end:
        yield lo, end, offset


def _working_spans(
    calendar: BusinessCalendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The working parts of [start, end) in time order, as UTC [from, to) spans."""
    for lo, hi, offset in _pieces(calendar.zone, start, end):
        local_lo = (lo + offset).replace(tzinfo=None)
        local_hi = (hi + offset).replace(tzinfo=None)
        day = local_lo.date()
        while day <= local_hi.date():
            if day not in calendar.holidays:
                midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
                for r in calendar.week[day.weekday()]:
                    a = max(lo, midnight + timedelta(seconds=r.start_s))
                    b = min(hi, midnight + timedelta(seconds=r.end_s))
                    if a < b:
                        yield a, b
            day += timedelta(days=1)


def working_seconds_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> float:
    """Working seconds in [a, b) (0 when b is not after a)."""
    if b <= a:
        return 0.0
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    spans = _working_spans(calendar, a, b)
    return sum((hi - lo for lo, hi in spans), timedelta()).total_seconds()


def instant_after(
    calendar: BusinessCalendar, start: datetime, working_seconds: float
) -> datetime | None:
    """The instant at which `working_seconds` of working time have passed since `start`
    (`start` itself for 0; None when that is beyond the horizon)."""
    start = start.astimezone(UTC)
    if working_seconds <= 0:
        return start
    left = timedelta(seconds=working_seconds)
    window_start = start
    while window_start < start + HORIZON:
        window_end = window_start + timedelta(days=28)
        for lo, hi in _working_spans(calendar, window_start, window_end):
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        window_start = window_end
    return None
