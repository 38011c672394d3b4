"""Each report's query, paged as `page()` pages it, is planned on its index (EXPLAIN).

The tables hold a few thousand rows, where a sequential scan is always cheap, so
sequential scans are switched off for the EXPLAIN's transaction: the planner then picks
the index that serves the query best, and a query that no index serves shows up as a
plan reading some unrelated index in full, or sorting what it read.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Select, insert, text

from api.services import report_queries as queries
from api.services.report import SHAPES, Shape, ordered, tracking_shape
from domain.access import Principal, Role
from domain.outcome import Grade, OutcomeKind, OutcomeStatus, ReleaseMethod
from domain.report import ReportName, TrackingDate
from domain.sla import SlaStatus
from models.candidate import Candidate, Element, Employer, Provider
from models.outcome import Outcome
from models.report import OutcomeFilters, SlaFilters
from models.sla import SlaInstance, SlaLogEntry

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
FROM = T0 + timedelta(days=20)
TO = T0 + timedelta(days=27)
LIMIT = 50  # page() asks for one row more than the page
STAFF = Principal(sub="report-reader", roles=frozenset({Role.ASSESSOR}))
PROVIDER = "provider-0"
PROVIDER_USER = Principal(sub="p-user", roles=frozenset({Role.PROVIDER}), org=PROVIDER)
GRADES = [Grade.PASS, Grade.MERIT, Grade.DISTINCTION, Grade.FAIL, Grade.FAIL, Grade.VOID]
METHODS = [ReleaseMethod.AUTOMATIC, ReleaseMethod.MANUAL, ReleaseMethod.SCHEDULED]
TABLES = ("outcomes", "candidates", "elements", "sla_definitions", "sla_instances", "sla_log")
CANDIDATES, OUTCOMES, INSTANCES = 600, 6000, 2000


def _seed(engine: Engine) -> None:
    """Thousands of outcomes over 60 days (two thirds released) and SLA instances over
    the seeded definitions; then VACUUM ANALYZE (as autovacuum would), so statistics and
    the visibility map describe the data."""
    candidates = [
        {
            "id": f"candidate-{c}",
            "name": f"Candidate {c}",
            "provider_id": f"provider-{c % 3}",
            "employer_id": "employer-0",
            "status": "IN_ASSESSMENT",
            "created_at": T0,
            "updated_at": T0,
        }
        for c in range(CANDIDATES)
    ]
    elements = [
        {
            "id": f"element-{c}-{e}",
            "candidate_id": f"candidate-{c}",
            "component": ("practical", "theory")[e],
            "scheduled_at": T0,
            "created_at": T0,
        }
        for c in range(CANDIDATES)
        for e in range(2)
    ]
    with engine.begin() as connection:
        connection.execute(
            insert(Employer), [{"id": "employer-0", "name": "Employer", "created_at": T0}]
        )
        connection.execute(
            insert(Provider),
            [
                {"id": f"provider-{p}", "name": "P", "created_at": T0, "updated_at": T0}
                for p in range(3)
            ],
        )
        connection.execute(insert(Candidate), candidates)
        connection.execute(insert(Element), elements)
        connection.execute(insert(Outcome), [_outcome(n) for n in range(OUTCOMES)])
        instances = [_sla_instance(n) for n in range(INSTANCES)]
        connection.execute(insert(SlaInstance), instances)
        connection.execute(
            insert(SlaLogEntry),
            [
                {"instance_id": i["id"], "seq": seq, "kind": kind, "at": i["started_at"]}
                for i in instances
                for seq, kind in enumerate(("START", "PAUSE"))
            ],
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in TABLES:
            connection.execute(text(f"VACUUM ANALYZE {table}"))


def _outcome(n: int) -> dict[str, Any]:
    candidate = n % CANDIDATES
    kind = OutcomeKind.CERTIFICATION if n % 5 == 0 else OutcomeKind.RESULT
    grade = GRADES[n % len(GRADES)]
    submitted = T0 + timedelta(minutes=15 * n)
    released = grade == Grade.VOID or n % 3 != 0
    method = ReleaseMethod.VOID if grade == Grade.VOID else METHODS[n % len(METHODS)]
    return {
        "id": f"outcome-{n:05d}",
        "kind": kind.value,
        "candidate_id": f"candidate-{candidate}",
        "element_id": (
            None if kind == OutcomeKind.CERTIFICATION else f"element-{candidate}-{n % 2}"
        ),
        "grade": grade.value,
        "sampled_for_qa": False,
        "status": (OutcomeStatus.RELEASED if released else OutcomeStatus.PENDING_RELEASE).value,
        "amendments": 0,
        "revision": 0,
        "tracked": True,
        "submitted_by": "assessor-1",
        "submitted_at": submitted,
        "completed_at": submitted,
        "released_at": submitted + timedelta(hours=n % 7) if released else None,
        "release_method": method.value if released else None,
        "created_at": submitted,
        "updated_at": submitted,
    }


DEFINITIONS = [
    "result_complete_to_release",
    "certification_complete_to_release",
    "element_scheduled_to_outcome_release",
    "candidate_time_in_epa",
]


def _sla_instance(n: int) -> dict[str, Any]:
    definition = DEFINITIONS[n % len(DEFINITIONS)]
    subject = f"subject-{n}"
    return {
        "id": f"{definition}:{subject}",
        "definition": definition,
        "version": 1,
        "subject": subject,
        "candidate_id": f"candidate-{n % CANDIDATES}",
        "status": SlaStatus.PAUSED.value,
        "goal_s": 14 * 86400,
        "started_at": T0 + timedelta(minutes=45 * n),
        "warned": [],
    }


def plan(engine: Engine, statement: Select[Any]) -> dict[str, Any]:
    """The JSON plan of `statement` (bound values as the driver sends them) with
    sequential scans off for the transaction."""
    compiled = statement.compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        [[document]] = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
        ).all()
    parsed = document if isinstance(document, list) else json.loads(document)
    root: dict[str, Any] = parsed[0]["Plan"]
    return root


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a plan, depth first."""
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def outline(root: dict[str, Any]) -> str:
    """The plan as a readable tree (in the assertion message)."""

    def lines(node: dict[str, Any], depth: int) -> Iterator[str]:
        details = [node["Node Type"], node.get("Join Type", ""), node.get("Index Name", "")]
        details += [node.get("Relation Name", ""), node.get("Index Cond", "")]
        yield "  " * depth + " ".join(d for d in details if d)
        for child in node.get("Plans", []):
            yield from lines(child, depth + 1)

    return "\n".join(lines(root, 0))


@dataclass(frozen=True)
class Reads:
    """A plan node reading one of `indexes` and searching it on `column` when one is named
    (so the index narrows the rows rather than standing in for the switched-off seq scan),
    or, when `covering`, reading the index alone (an index-only scan serves a merge or a
    hash as well as probes do)."""

    indexes: frozenset[str]
    column: str | None = None
    covering: bool = False

    def found_in(self, root: dict[str, Any]) -> bool:
        return any(self._served_by(node) for node in nodes(root))

    def _served_by(self, node: dict[str, Any]) -> bool:
        if node.get("Index Name") not in self.indexes:
            return False
        if self.column is None or self.column in node.get("Index Cond", ""):
            return True
        return self.covering and node["Node Type"] == "Index Only Scan"


def reads(*indexes: str, on: str | None = None, covering: bool = False) -> Reads:
    return Reads(frozenset(indexes), on, covering)


def paged(statement: Select[Any], shape: Shape) -> Select[Any]:
    """What `page()` runs for the first page."""
    return ordered(statement, shape).limit(LIMIT + 1)


def _report(name: ReportName, filters: OutcomeFilters, who: Principal = STAFF) -> Select[Any]:
    build = {
        ReportName.PASS_FAIL: queries.pass_fail,
        ReportName.FIRST_TIME_PASS: queries.first_time_pass,
        ReportName.OUTCOME_RELEASES: queries.outcome_releases,
        ReportName.RESULT_TRACKING: queries.result_tracking,
    }[name]
    shape = SHAPES[name]
    if name == ReportName.RESULT_TRACKING:  # as the route pages it
        shape = tracking_shape(filters.date_field == TrackingDate.RELEASED)
    return paged(build(who, filters), shape)


def _sla(filters: SlaFilters) -> Select[Any]:
    return paged(queries.sla(filters, now=TO), SHAPES[ReportName.SLA])


RELEASED = "ix_outcomes_released"
WINDOW = OutcomeFilters(from_at=FROM, to_at=TO)
ALL = OutcomeFilters()


@dataclass(frozen=True)
class Case:
    """A report request, the index reads its plan must hold, and whether the index
    order must feed the page (no Sort: the first page reads only what it returns)."""

    statement: Callable[[], Select[Any]]
    wanted: tuple[Reads, ...]
    in_index_order: bool = False


CASES: dict[str, Case] = {
    "pass-fail": Case(
        lambda: _report(ReportName.PASS_FAIL, WINDOW), (reads(RELEASED, on="released_at"),)
    ),
    "pass-fail, no window": Case(lambda: _report(ReportName.PASS_FAIL, ALL), (reads(RELEASED),)),
    "pass-fail, a provider's user": Case(
        lambda: _report(ReportName.PASS_FAIL, WINDOW, PROVIDER_USER),
        (reads(RELEASED, on="released_at"),),
    ),
    "first-time-pass": Case(
        lambda: _report(ReportName.FIRST_TIME_PASS, WINDOW),
        (
            reads(RELEASED, on="released_at"),
            # the anti-join: the candidate's earlier attempts, probed or read index-only
            reads("ix_outcomes_attempts", on="candidate_id", covering=True),
        ),
    ),
    "outcome-releases": Case(
        lambda: _report(ReportName.OUTCOME_RELEASES, WINDOW),
        (reads(RELEASED, on="released_at"),),
        in_index_order=True,
    ),
    "outcome-releases, no window": Case(
        lambda: _report(ReportName.OUTCOME_RELEASES, ALL), (reads(RELEASED),), in_index_order=True
    ),
    "outcome-releases, one method": Case(
        lambda: _report(ReportName.OUTCOME_RELEASES, replace(WINDOW, method=ReleaseMethod.MANUAL)),
        (reads("ix_outcomes_release_method", RELEASED, on="released_at"),),
    ),
    "result-tracking": Case(
        lambda: _report(ReportName.RESULT_TRACKING, WINDOW),
        (reads("ix_outcomes_submitted", on="submitted_at"),),
    ),
    "result-tracking, one kind": Case(
        lambda: _report(ReportName.RESULT_TRACKING, replace(WINDOW, kind=OutcomeKind.RESULT)),
        (reads("ix_outcomes_submitted", on="submitted_at"),),
        in_index_order=True,
    ),
    "result-tracking, no window": Case(
        lambda: _report(ReportName.RESULT_TRACKING, ALL),
        (reads("ix_outcomes_submitted"),),
        in_index_order=True,
    ),
    "result-tracking by release": Case(
        lambda: _report(
            ReportName.RESULT_TRACKING, replace(WINDOW, date_field=TrackingDate.RELEASED)
        ),
        (reads(RELEASED, on="released_at"),),
        in_index_order=True,
    ),
    "sla": Case(
        lambda: _sla(SlaFilters(from_at=FROM, to_at=TO)),
        (reads("ix_sla_instances_started", on="started_at"),),
        in_index_order=True,
    ),
    "sla, no window": Case(
        lambda: _sla(SlaFilters()), (reads("ix_sla_instances_started"),), in_index_order=True
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_report_is_planned_on_its_index(db: Engine, name: str) -> None:
    case = CASES[name]
    _seed(db)

    root = plan(db, case.statement())

    missing = [want for want in case.wanted if not want.found_in(root)]
    assert not missing, f"{name}: no {missing} in\n{outline(root)}"
    if case.in_index_order:
        sorts = [node for node in nodes(root) if node["Node Type"] == "Sort"]
        assert not sorts, f"{name}: the page is sorted, not read in index order\n{outline(root)}"
