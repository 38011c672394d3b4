"""Seeding for bench/reports.py: generates the N-result data set and COPYs it in.

50 providers (half auto-releasing), 5,000 candidates, N results with their elements (most
released over the last year by every method, thousands pending release, some in QA, voids
released as VOID, resits of failed components), 2,000 certifications and about 20,000 SLA
instances with their logs, loaded in one transaction and followed by VACUUM ANALYZE.
`load()` returns what was made, for the cases and the header the bench prints.
"""

import random
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy.engine import make_url

from workflows.payloads.sla import sla_workflow_id

Row = tuple[object, ...]

NOW = datetime.now(UTC).replace(microsecond=0)
DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
CREATED = NOW - 500 * DAY

PROVIDERS, EMPLOYERS, CANDIDATES, CERTIFICATIONS = 50, 300, 5_000, 2_000
SLA_RESULTS, SLA_ELEMENTS, SLA_CANDIDATES = 14_000, 3_000, 1_000

ACTIVE = frozenset({"IN_ASSESSMENT", "COMPLETED", "CERTIFIED"})
CANDIDATE_STATUSES = {
    "IN_ASSESSMENT": 43,
    "COMPLETED": 25,
    "CERTIFIED": 20,
    "ON_PROGRAMME": 4,
    "BACK_INTO_LEARNING": 3,
    "RETAKE_REVIEW": 2,
    "WITHDRAWN": 3,
}
STANDARDS = [f"ST{n:04d}" for n in range(100, 125)]
COHORTS = [f"2025-{m:02d}" for m in range(1, 13)]
COMPONENTS = [
    f"{base}-{k}"
    for base in ("knowledge-test", "practical", "interview", "portfolio", "project", "showcase")
    for k in range(1, 11)
]

# Tables in foreign-key order, with the columns COPY fills.
COLUMNS: dict[str, tuple[str, ...]] = {
    "providers": ("id", "name", "auto_release_outcomes", "created_at", "updated_at"),
    "employers": ("id", "name", "created_at"),
    "candidates": (
        "id",
        "name",
        "uln",
        "provider_id",
        "employer_id",
        "standard",
        "cohort",
        "status",
        "gateway_approved_at",
        "created_at",
        "updated_at",
    ),
    "elements": ("id", "candidate_id", "component", "scheduled_at", "created_at"),
    "outcomes": (
        "id",
        "kind",
        "candidate_id",
        "element_id",
        "grade",
        "sampled_for_qa",
        "status",
        "amendments",
        "revision",
        "tracked",
        "submitted_by",
        "submitted_at",
        "completed_at",
        "released_at",
        "release_method",
        "scheduled_release_at",
        "schedule_owner",
        "created_at",
        "updated_at",
    ),
    "sla_instances": (
        "id",
        "definition",
        "version",
        "subject",
        "candidate_id",
        "status",
        "goal_s",
        "started_at",
        "stopped_at",
        "breached_at",
        "warned",
    ),
    "sla_log": ("instance_id", "seq", "kind", "at"),
}


@dataclass(frozen=True)
class Cand:
    """A seeded candidate, as the generator needs it."""

    id: str
    provider_id: str
    auto: bool
    status: str
    gateway_at: datetime

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True)
class Settled:
    """Where an outcome ended up: status, completion, release (or pending schedule)."""

    status: str
    sampled: bool
    completed_at: datetime | None = None
    released_at: datetime | None = None
    method: str | None = None
    scheduled_at: datetime | None = None


@dataclass(frozen=True)
class Made:
    """One seeded outcome."""

    id: str
    kind: str
    cand: Cand
    element_id: str | None
    element_at: datetime | None
    grade: str
    submitted_at: datetime
    settled: Settled

    def row(self) -> Row:
        s = self.settled
        touched = s.released_at or s.completed_at or self.submitted_at
        owner = "outcome" if s.scheduled_at else None
        return (
            *(self.id, self.kind, self.cand.id, self.element_id, self.grade, s.sampled, s.status),
            *(0, 1, s.method != "LEGACY", "assessor", self.submitted_at, s.completed_at),
            *(s.released_at, s.method, s.scheduled_at, owner, self.submitted_at, touched),
        )


@dataclass
class Seed:
    """Every row to COPY, and what the SLA generator and the cases need to know."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in COLUMNS})
    candidates: list[Cand] = field(default_factory=list)
    results: list[Made] = field(default_factory=list)
    certifications: list[Made] = field(default_factory=list)
    resits: int = 0


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed_people(rng: random.Random, seed: Seed) -> None:
    """Providers (even ones auto-release), employers, candidates (mostly active)."""
    providers = [(uid(rng), i % 2 == 0) for i in range(PROVIDERS)]
    for i, (provider_id, auto) in enumerate(providers):
        seed.rows["providers"].append((provider_id, f"Provider {i:02d}", auto, CREATED, CREATED))
    employers = [uid(rng) for _ in range(EMPLOYERS)]
    seed.rows["employers"] += [(e, f"Employer {i}", CREATED) for i, e in enumerate(employers)]
    statuses = rng.choices(
        list(CANDIDATE_STATUSES), weights=list(CANDIDATE_STATUSES.values()), k=CANDIDATES
    )
    for i, status in enumerate(statuses):
        provider_id, auto = rng.choice(providers)
        cand = Cand(uid(rng), provider_id, auto, status, NOW - rng.uniform(385, 420) * DAY)
        employer = rng.choice(employers) if rng.random() < 0.9 else None
        seed.rows["candidates"].append(
            (
                *(cand.id, f"Candidate {i:05d}", str(rng.randrange(10**9, 10**10)), provider_id),
                *(employer, rng.choice(STANDARDS), rng.choice(COHORTS), status, cand.gateway_at),
                *(cand.gateway_at - 30 * DAY, cand.gateway_at),
            )
        )
        seed.candidates.append(cand)


def grade_of(rng: random.Random, fail_rate: float) -> str:
    draw = rng.random()
    if draw < 0.015:
        return "VOID"
    if draw < 0.015 + fail_rate:
        return "FAIL"
    return rng.choices(("PASS", "MERIT", "DISTINCTION"), weights=(55, 30, 15))[0]


def release(
    rng: random.Random, submitted: datetime, completed: datetime, auto: bool, sampled: bool
) -> tuple[str, datetime]:
    """The release method and instant of a completed outcome that was released."""
    if NOW - submitted > 330 * DAY and rng.random() < 0.5:
        return "LEGACY", completed + rng.uniform(0.5, 5) * DAY
    if auto:
        return "AUTOMATIC", completed
    if sampled and rng.random() < 0.5:
        return "WITH_QA", completed
    if rng.random() < 0.35:
        return "SCHEDULED", completed + rng.uniform(1, 10) * DAY
    return "MANUAL", completed + rng.uniform(0.05, 7) * DAY


def settle(rng: random.Random, grade: str, submitted: datetime, auto: bool) -> Settled:
    """Voids are released at once; recent sampled ones may sit in QA; recent ones of
    providers that do not auto-release mostly wait for release; the rest were released."""
    if grade == "VOID":
        return Settled("RELEASED", False, submitted, submitted, "VOID")
    sampled = rng.random() < 0.1
    if sampled and NOW - submitted < 21 * DAY and rng.random() < 0.6:
        return Settled("IN_QA", sampled)
    delay = rng.uniform(2, 10) * DAY if sampled else rng.uniform(0, 6) * HOUR
    completed = min(submitted + delay, NOW - MINUTE)
    recent = NOW - submitted < 60 * DAY
    if not auto and ((recent and rng.random() < 0.6) or rng.random() < 0.01):
        scheduled = NOW + rng.uniform(1, 14) * DAY if rng.random() < 0.2 else None
        return Settled("PENDING_RELEASE", sampled, completed, scheduled_at=scheduled)
    method, released = release(rng, submitted, completed, auto, sampled)
    if released >= NOW:
        return Settled("PENDING_RELEASE", sampled, completed)
    return Settled("RELEASED", sampled, completed, released, method)


def result(
    rng: random.Random, seed: Seed, cand: Cand, component: str, grade: str, at: datetime
) -> Made:
    """One result on its own element (a resit is a new sitting of the same component)."""
    element_id, scheduled = uid(rng), at - rng.uniform(0, 3) * DAY
    seed.rows["elements"].append((element_id, cand.id, component, scheduled, scheduled - 30 * DAY))
    settled = settle(rng, grade, at, cand.auto)
    return Made(uid(rng), "result", cand, element_id, scheduled, grade, at, settled)


def attempts(rng: random.Random, seed: Seed, cand: Cand, count: int) -> list[Made]:
    """`count` results of one candidate over the last ~380 days; a failed component is
    often sat again later (a resit), so first-time pass has earlier attempts to find."""
    times = sorted(NOW - rng.uniform(0.5, 380) * DAY for _ in range(count))
    fresh = rng.sample(COMPONENTS, len(COMPONENTS))
    awaiting: list[str] = []
    made: list[Made] = []
    for at in times:
        if awaiting and rng.random() < 0.6:
            component, fail_rate = awaiting.pop(0), 0.10
            seed.resits += 1
        else:
            component, fail_rate = (fresh.pop() if fresh else rng.choice(COMPONENTS)), 0.15
        grade = grade_of(rng, fail_rate)
        if grade == "FAIL":
            awaiting.append(component)
        made.append(result(rng, seed, cand, component, grade, at))
    return made


def seed_outcomes(rng: random.Random, seed: Seed, count: int) -> None:
    """`count` results spread over the candidates, then certifications of finished ones."""
    per = Counter(rng.randrange(CANDIDATES) for _ in range(count))
    last: dict[str, datetime] = {}
    for index, cand in enumerate(seed.candidates):
        made = attempts(rng, seed, cand, per[index])
        seed.results += made
        if made:
            last[cand.id] = made[-1].submitted_at
    finished = [c for c in seed.candidates if c.status in ("COMPLETED", "CERTIFIED")]
    finished = [c for c in finished if c.id in last]
    for cand in rng.sample(finished, min(CERTIFICATIONS, len(finished))):
        at = min(last[cand.id] + rng.uniform(1, 20) * DAY, NOW - HOUR)
        grade = grade_of(rng, 0.08)
        settled = settle(rng, grade, at, cand.auto)
        seed.certifications.append(
            Made(uid(rng), "certification", cand, None, None, grade, at, settled)
        )
    seed.rows["outcomes"] = [m.row() for m in seed.results + seed.certifications]


@dataclass(frozen=True)
class Timed:
    """One subject an SLA times, from `start` to `stop` (None: still running)."""

    definition: str
    subject: str
    cand: Cand
    start: datetime
    stop: datetime | None


def sla_subjects(rng: random.Random, seed: Seed) -> list[Timed]:
    """Completed results and certifications, scheduled elements, candidates in EPA."""
    completed = [m for m in seed.results if m.settled.completed_at is not None]
    picked = rng.sample(completed, min(SLA_RESULTS, len(completed)))
    certified = [m for m in seed.certifications if m.settled.completed_at is not None]
    cert_release = {m.cand.id: m.settled.released_at for m in seed.certifications}

    def done(m: Made) -> datetime:
        return m.settled.completed_at or m.submitted_at

    return [
        *(
            Timed("result_complete_to_release", m.id, m.cand, done(m), m.settled.released_at)
            for m in picked
        ),
        *(
            Timed("certification_complete_to_release", m.id, m.cand, done(m), m.settled.released_at)
            for m in certified
        ),
        *(
            Timed(
                "element_scheduled_to_outcome_release",
                m.element_id or m.id,
                m.cand,
                m.element_at or m.submitted_at,
                m.settled.released_at,
            )
            for m in rng.sample(seed.results, min(SLA_ELEMENTS, len(seed.results)))
        ),
        *(
            Timed("candidate_time_in_epa", c.id, c, c.gateway_at, cert_release.get(c.id))
            for c in rng.sample(seed.candidates, SLA_CANDIDATES)
        ),
    ]


def breach_of(
    start: datetime, end: datetime, goal: timedelta, pause: datetime | None, resume: datetime | None
) -> datetime | None:
    """When the running time reached the goal (at most one pause), if it did by `end`."""
    if pause is None or start + goal <= pause:
        at: datetime | None = start + goal
    elif resume is None:
        at = None
    else:
        at = start + goal + (resume - pause)
    return at if at is not None and at <= end else None


def seed_sla(rng: random.Random, seed: Seed, goals: dict[str, tuple[int, int]]) -> None:
    """An instance per subject with its log: START, an open PAUSE for a running one of an
    inactive candidate, a PAUSE/RESUME pair for some, STOP for stopped ones."""
    for timed in sla_subjects(rng, seed):
        version, goal_s = goals[timed.definition]
        end = timed.stop or NOW
        pause = resume = None
        if timed.stop is None and not timed.cand.active:
            pause = timed.start + (end - timed.start) * rng.uniform(0.1, 0.9)
        elif rng.random() < 0.12:
            pause = timed.start + (end - timed.start) * rng.uniform(0.1, 0.5)
            resume = pause + (end - pause) * rng.uniform(0.1, 0.9)
        breached = breach_of(timed.start, end, timedelta(seconds=goal_s), pause, resume)
        if breached:
            status = "BREACHED"
        elif timed.stop:
            status = "MET"
        else:
            status = "PAUSED" if pause and not resume else "RUNNING"
        instance_id = sla_workflow_id(timed.definition, timed.subject)
        seed.rows["sla_instances"].append(
            (
                *(instance_id, timed.definition, version, timed.subject, timed.cand.id, status),
                *(goal_s, timed.start, timed.stop, breached, "[]"),
            )
        )
        log = [("START", timed.start), ("PAUSE", pause), ("RESUME", resume), ("STOP", timed.stop)]
        entries = [(kind, at) for kind, at in log if at is not None]
        seed.rows["sla_log"] += [(instance_id, n, k, at) for n, (k, at) in enumerate(entries)]


def conninfo(url: str) -> str:
    """The libpq URL of the SQLAlchemy URL (raw psycopg connections)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load(url: str, count: int) -> Seed:
    """Generate the rows, COPY them in one transaction, then VACUUM ANALYZE."""
    rng = random.Random(9)
    seed = Seed()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        goals = {
            code: (version, goal_s)
            for code, version, goal_s in conn.execute(
                "SELECT DISTINCT ON (code) code, version, goal_s FROM sla_definitions"
                " ORDER BY code, version DESC"
            )
        }
        seed_people(rng, seed)
        seed_outcomes(rng, seed, count)
        seed_sla(rng, seed, goals)
        with conn.transaction(), conn.cursor() as cursor:
            for table, columns in COLUMNS.items():
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in seed.rows[table]:
                        copy.write_row(row)
        conn.execute("VACUUM ANALYZE")
    return seed
