"""The reports' SQL on real PostgreSQL agrees with the rules in Python: SLA times equal the
domain's arithmetic for any valid log, and first-time-pass and pass-fail counts equal a
computation over the same rows, per release day in a zone (across midnight and DST)."""

import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Select, text
from sqlmodel import Session

from api.services import report_queries as queries
from domain.access import Principal, Role
from domain.errors import Invalid
from domain.outcome import (
    CandidateStatus,
    Grade,
    OutcomeKind,
    OutcomeStatus,
    ReleaseMethod,
)
from domain.report import Attempt, first_attempts, report_zone
from domain.sla import SlaEvent, SlaEventKind, accepts, elapsed, paused, status
from models.candidate import Candidate, Element, Employer, Provider
from models.outcome import Outcome
from models.report import OutcomeFilters, SlaFilters
from models.sla import SlaInstance, SlaLogEntry

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DEFINITION = "result_complete_to_release"  # seeded by migration 0007, version 1
START, PAUSE, RESUME, STOP = (
    SlaEventKind.START,
    SlaEventKind.PAUSE,
    SlaEventKind.RESUME,
    SlaEventKind.STOP,
)
STAFF = Principal(sub="report-reader", roles=frozenset({Role.ASSESSOR}))
PASSING = {Grade.PASS, Grade.MERIT, Grade.DISTINCTION}


def _rows(engine: Engine, statement: Select[Any]) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return [dict(row) for row in session.execute(statement).mappings().all()]


# --- SLA timings -------------------------------------------------------------------

# Up to five days between events, to the microsecond (zero gaps included).
GAPS = st.integers(min_value=0, max_value=5 * 86400 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)


@st.composite
def sla_logs(draw: st.DrawFn) -> tuple[list[SlaEvent], datetime]:
    """START, then pauses and resumes alternating, maybe a STOP; and a `now` after it all.
    Every event is one `domain.sla.accepts` allows."""
    at = T0 + draw(GAPS)
    log = [SlaEvent(START, at)]
    for _ in range(draw(st.integers(min_value=0, max_value=9))):
        at += draw(GAPS)
        kind = PAUSE if accepts(log, PAUSE) else RESUME
        assert accepts(log, kind)
        log.append(SlaEvent(kind, at))
    if draw(st.booleans()):
        at += draw(GAPS)
        assert accepts(log, STOP)
        log.append(SlaEvent(STOP, at))
    return log, at + draw(GAPS)


def _seed_sla(engine: Engine, log: Sequence[SlaEvent]) -> str:
    """An instance of the seeded definition timed by `log`; returns its subject."""
    subject = f"result:{uuid.uuid4()}"
    instance_id = f"{DEFINITION}:{subject}"
    stop = log[-1].at if log and log[-1].kind == STOP else None
    with Session(engine) as session, session.begin():
        session.add(
            SlaInstance(
                id=instance_id,
                definition=DEFINITION,
                version=1,
                subject=subject,
                status=status(log, breached=False),
                goal_s=14 * 86400,
                started_at=log[0].at if log else T0,
                stopped_at=stop,
            )
        )
        session.flush()
        for seq, event in enumerate(log):
            session.add(SlaLogEntry(instance_id=instance_id, seq=seq, kind=event.kind, at=event.at))
    return subject


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=sla_logs())
def test_sla_times_are_the_domain_arithmetic_for_any_log(
    db: Engine, case: tuple[list[SlaEvent], datetime]
) -> None:
    log, now = case
    subject = _seed_sla(db, log)
    end = log[-1].at if log[-1].kind == STOP else now

    rows = _rows(db, queries.sla(SlaFilters(subject=subject), now=now))

    assert len(rows) == 1
    row = rows[0]
    assert row["elapsed_s"] == pytest.approx(elapsed(log, end).total_seconds(), abs=1e-3)
    assert row["paused_s"] == pytest.approx(paused(log, end).total_seconds(), abs=1e-3)
    assert (row["definition"], row["version"], row["subject"]) == (DEFINITION, 1, subject)
    assert row["started_at"] == log[0].at
    assert row["stopped_at"] == (end if log[-1].kind == STOP else None)


@pytest.mark.parametrize(
    "steps",
    [
        [],  # an instance whose log is not written yet
        [(START, 0)],
        [(START, 0), (PAUSE, 0)],
        [(START, 0), (STOP, 0)],
        [(START, 0), (PAUSE, 3600), (STOP, 7200)],
        [(START, 0), (PAUSE, 3600), (RESUME, 7200), (PAUSE, 7200), (RESUME, 9000)],
    ],
)
def test_sla_times_at_the_edges(db: Engine, steps: list[tuple[SlaEventKind, int]]) -> None:
    log = [SlaEvent(kind, T0 + timedelta(seconds=s)) for kind, s in steps]
    now = T0 + timedelta(days=2, microseconds=7)
    subject = _seed_sla(db, log)
    end = log[-1].at if log and log[-1].kind == STOP else now

    [row] = _rows(db, queries.sla(SlaFilters(subject=subject), now=now))

    assert row["elapsed_s"] == pytest.approx(elapsed(log, end).total_seconds(), abs=1e-3)
    assert row["paused_s"] == pytest.approx(paused(log, end).total_seconds(), abs=1e-3)


# --- outcomes: a deterministic mix ------------------------------------------------

# Submissions fall on a few instants (so attempts tie); releases straddle midnight in UTC
# and in London, on the days the clocks go forward (29 March) and back (25 October).
SUBMITTED = [T0 + timedelta(hours=h) for h in (0, 0, 1, 5)]
RELEASED = [
    datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # clocks go forward: 02:00 BST
    datetime(2026, 3, 29, 22, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 23, 0, tzinfo=UTC),  # midnight BST: 30 March in London
    datetime(2026, 3, 30, 0, 15, tzinfo=UTC),
    datetime(2026, 10, 24, 22, 59, tzinfo=UTC),
    datetime(2026, 10, 24, 23, 0, tzinfo=UTC),  # midnight BST: 25 October in London
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT, after the clocks go back
    datetime(2026, 10, 25, 23, 59, tzinfo=UTC),
    datetime(2026, 10, 26, 0, 0, tzinfo=UTC),
]
ZONES = ["UTC", "Europe/London"]
METHODS = [
    ReleaseMethod.AUTOMATIC,
    ReleaseMethod.MANUAL,
    ReleaseMethod.SCHEDULED,
    ReleaseMethod.WITH_QA,
    ReleaseMethod.LEGACY,
]


@dataclass(frozen=True)
class Seeded:
    """One outcome as written, with what the reports group and filter by."""

    id: str
    kind: OutcomeKind
    candidate_id: str
    provider_id: str
    component: str | None
    grade: Grade
    submitted_at: datetime
    released_at: datetime | None
    method: ReleaseMethod | None

    @property
    def attempt(self) -> Attempt:
        return Attempt(
            self.id, self.kind, self.candidate_id, self.component, self.grade, self.submitted_at
        )


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _outcome(rng: random.Random, kind: OutcomeKind, candidate: str, provider: str) -> Seeded:
    """An outcome of `kind`: voids released at once, others released or still pending."""
    grade = rng.choice([Grade.PASS, Grade.MERIT, Grade.DISTINCTION, Grade.FAIL, Grade.FAIL])
    if rng.random() < 0.2:
        grade = Grade.VOID
    released = grade == Grade.VOID or rng.random() < 0.7
    method = (
        (ReleaseMethod.VOID if grade == Grade.VOID else rng.choice(METHODS)) if released else None
    )
    return Seeded(
        id=_uuid(rng),
        kind=kind,
        candidate_id=candidate,
        provider_id=provider,
        component=None,
        grade=grade,
        submitted_at=rng.choice(SUBMITTED),
        released_at=rng.choice(RELEASED) if released else None,
        method=method,
    )


def seed_mix(engine: Engine, seed: int) -> list[Seeded]:
    """Two providers, three candidates each, resit elements sharing a component, results
    and certifications with voids, ties, releases and pending ones, from `seed`."""
    rng = random.Random(seed)
    outcomes: list[Seeded] = []
    with Session(engine) as session, session.begin():
        employer = _uuid(rng)
        session.add(Employer(id=employer, name="Employer", created_at=T0))
        for p in range(2):
            provider = f"provider-{seed}-{p}"
            session.add(Provider(id=provider, name=provider, created_at=T0, updated_at=T0))
            session.flush()
            for c in range(3):
                candidate = _uuid(rng)
                session.add(
                    Candidate(
                        id=candidate,
                        name=f"Candidate {p}.{c}",
                        provider_id=provider,
                        employer_id=employer,
                        status=CandidateStatus.IN_ASSESSMENT,
                        created_at=T0,
                        updated_at=T0,
                    )
                )
                session.flush()
                outcomes += _seed_candidate(session, rng, candidate, provider)
    return outcomes


def _seed_candidate(
    session: Session, rng: random.Random, candidate: str, provider: str
) -> list[Seeded]:
    outcomes: list[Seeded] = []
    elements = [
        (_uuid(rng), component)
        for component in ("practical", "practical", "theory")  # two practical: a resit
    ]
    for element_id, component in elements:
        session.add(
            Element(
                id=element_id,
                candidate_id=candidate,
                component=component,
                scheduled_at=T0,
                created_at=T0,
            )
        )
    session.flush()
    for _ in range(rng.randint(0, 5)):
        element_id, component = rng.choice(elements)
        result = _outcome(rng, OutcomeKind.RESULT, candidate, provider)
        outcomes.append(_write(session, result, element_id, component))
    for _ in range(rng.randint(0, 3)):
        certification = _outcome(rng, OutcomeKind.CERTIFICATION, candidate, provider)
        outcomes.append(_write(session, certification, None, None))
    return outcomes


def _write(
    session: Session, seeded: Seeded, element_id: str | None, component: str | None
) -> Seeded:
    released = seeded.released_at is not None
    session.add(
        Outcome(
            id=seeded.id,
            kind=seeded.kind,
            candidate_id=seeded.candidate_id,
            element_id=element_id,
            grade=seeded.grade,
            status=OutcomeStatus.RELEASED if released else OutcomeStatus.PENDING_RELEASE,
            submitted_by="assessor-1",
            submitted_at=seeded.submitted_at,
            completed_at=seeded.submitted_at,
            released_at=seeded.released_at,
            release_method=seeded.method,
            created_at=seeded.submitted_at,
            updated_at=seeded.released_at or seeded.submitted_at,
        )
    )
    return Seeded(
        seeded.id,
        seeded.kind,
        seeded.candidate_id,
        seeded.provider_id,
        component,
        seeded.grade,
        seeded.submitted_at,
        seeded.released_at,
        seeded.method,
    )


WINDOW_FROM = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
WINDOW_TO = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)

Keep = Callable[[Seeded], bool]


def _variants(outcomes: list[Seeded]) -> list[tuple[OutcomeFilters, Principal, Keep]]:
    """Filters (zone aside), who reads, and which seeded outcomes that leaves: each filter
    narrows the outcomes counted, never the earlier attempts they are compared with."""
    provider = outcomes[0].provider_id
    some_candidate = outcomes[-1].candidate_id
    return [
        (OutcomeFilters(), STAFF, lambda o: True),
        (OutcomeFilters(kind=OutcomeKind.RESULT), STAFF, lambda o: o.kind == OutcomeKind.RESULT),
        (
            OutcomeFilters(kind=OutcomeKind.CERTIFICATION),
            STAFF,
            lambda o: o.kind == OutcomeKind.CERTIFICATION,
        ),
        (OutcomeFilters(component="practical"), STAFF, lambda o: o.component == "practical"),
        (OutcomeFilters(provider_id=provider), STAFF, lambda o: o.provider_id == provider),
        (
            OutcomeFilters(candidate_id=some_candidate),
            STAFF,
            lambda o: o.candidate_id == some_candidate,
        ),
        (
            OutcomeFilters(from_at=WINDOW_FROM, to_at=WINDOW_TO),
            STAFF,
            lambda o: o.released_at is not None and WINDOW_FROM <= o.released_at < WINDOW_TO,
        ),
        # a provider's own users: only their candidates' outcomes
        (
            OutcomeFilters(),
            Principal(sub="p-user", roles=frozenset({Role.PROVIDER}), org=provider),
            lambda o: o.provider_id == provider,
        ),
    ]


def _day(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


SEEDS = [1, 2, 3, 4, 5]


def test_the_mix_holds_what_the_counts_must_cope_with(db: Engine) -> None:
    outcomes = [o for seed in SEEDS for o in seed_mix(db, seed)]
    tried = [o for o in outcomes if o.grade != Grade.VOID]
    keys = Counter((o.kind, o.candidate_id, o.component) for o in tried)
    ties = Counter((o.kind, o.candidate_id, o.component, o.submitted_at) for o in tried)
    assert any(o.grade == Grade.VOID for o in outcomes)
    assert any(o.released_at is None for o in outcomes)
    assert any(count > 1 for count in keys.values()), "no second attempt"
    assert any(count > 1 for count in ties.values()), "no tie on the submission instant"
    assert len(first_attempts(o.attempt for o in outcomes)) < len(tried)
    assert {
        _day(o.released_at, "UTC") != _day(o.released_at, "Europe/London")
        for o in outcomes
        if o.released_at
    } == {True, False}


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("seed", SEEDS)
def test_first_time_pass_counts_the_domains_first_attempts(
    db: Engine, seed: int, zone: str
) -> None:
    outcomes = seed_mix(db, seed)
    firsts = first_attempts(o.attempt for o in outcomes)  # every outcome is a try, kept or not

    for filters, who, keep in _variants(outcomes):
        expected: Counter[tuple[date, str, str]] = Counter()
        for o in outcomes:
            if o.id in firsts and o.released_at is not None and keep(o):
                day = _day(o.released_at, zone)
                expected[day, o.kind.value, "first_attempts"] += 1
                expected[day, o.kind.value, "first_time_passes"] += o.grade in PASSING
        statement = queries.first_time_pass(who, _in_zone(filters, zone))

        found: Counter[tuple[date, str, str]] = Counter()
        rows = _rows(db, statement)
        for row in rows:
            for field in ("first_attempts", "first_time_passes"):
                found[row["date"], row["kind"], field] += row[field]
        assert +found == +expected, (filters, who)
        assert len({(row["date"], row["kind"]) for row in rows}) == len(rows)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("seed", SEEDS)
def test_pass_fail_counts_released_outcomes_on_their_release_day(
    db: Engine, seed: int, zone: str
) -> None:
    outcomes = seed_mix(db, seed)
    field = {Grade.FAIL: "failed", Grade.VOID: "void"}

    for filters, who, keep in _variants(outcomes):
        expected: Counter[tuple[date, str, str]] = Counter()
        for o in outcomes:
            if o.released_at is not None and keep(o):
                day = _day(o.released_at, zone)
                expected[day, o.kind.value, field.get(o.grade, "passed")] += 1
        statement = queries.pass_fail(who, _in_zone(filters, zone))

        found: Counter[tuple[date, str, str]] = Counter()
        rows = _rows(db, statement)
        for row in rows:
            for name in ("passed", "failed", "void"):
                found[row["date"], row["kind"], name] += row[name]
        assert +found == +expected, (filters, who)
        assert len({(row["date"], row["kind"]) for row in rows}) == len(rows)


def _in_zone(filters: OutcomeFilters, zone: str) -> OutcomeFilters:
    return replace(filters, tz=zone)


def test_every_zone_the_reports_accept_is_one_postgresql_counts_days_in(db: Engine) -> None:
    """`report_zone` answers 422 for an unknown zone; a zone it lets through must not then
    fail inside PostgreSQL (a 500, or a CSV export cut short after its 200)."""
    candidates = sorted(available_timezones() | {"posixrules", "localtime", "Factory"})
    accepted = []
    for name in candidates:
        try:
            report_zone(name)
        except Invalid:
            continue
        accepted.append(name)
    with db.connect() as connection:
        known = set(connection.execute(text("SELECT name FROM pg_timezone_names")).scalars())
    assert accepted
    assert [name for name in accepted if name not in known] == []
