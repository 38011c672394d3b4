"""What PostgreSQL holds after the chaos workload, case by case, to count against the plan.

Each case is reduced to a signature: its status and, per kind of row, how many rows (or
which audit actions and event types, in order). The workload's cases of one kind must all
share one signature, the one the plan expects: a lost or a duplicated row changes it.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

Signature = tuple[Any, ...]


def _grouped(connection: Connection, sql: str, ids: list[str]) -> dict[str, list[Any]]:
    """`sql` selects (case id, value) ordered; the values per case id."""
    found: dict[str, list[Any]] = {case: [] for case in ids}
    for case, value in connection.execute(text(sql), {"ids": ids}):
        found.setdefault(case, []).append(value)
    return found


def _counted(connection: Connection, sql: str, ids: list[str]) -> dict[str, Counter[str]]:
    return {case: Counter(values) for case, values in _grouped(connection, sql, ids).items()}


AUDIT = "SELECT subject_id, action FROM audit_log WHERE subject_id = ANY(:ids) ORDER BY id"
EVENTS = "SELECT subject, type FROM outbox_events WHERE subject = ANY(:ids) ORDER BY id"


@dataclass(frozen=True)
class Cycle:
    """One review cycle's rows."""

    status: tuple[str, str | None]
    responses: tuple[tuple[str, int], ...]  # element → versions
    assessments: int
    assignments: int
    reviews: tuple[str, ...]  # each review's status
    review_responses: int
    review_decisions: tuple[tuple[str, str | None], ...]  # element → latest decision
    audit: tuple[str, ...]
    events: tuple[str, ...]
    review_events: tuple[str, ...]


def cycles(connection: Connection, ids: list[str]) -> Counter[Cycle]:
    """The signature of each application's cycle, counted."""
    status = {
        row.id: (row.status, row.outcome)
        for row in connection.execute(
            text("SELECT id, status, outcome FROM applications WHERE id = ANY(:ids)"), {"ids": ids}
        )
    }
    responses = _counted(
        connection,
        "SELECT application_id, element_code FROM application_responses"
        " WHERE application_id = ANY(:ids) ORDER BY element_code",
        ids,
    )
    assessments = _grouped(
        connection,
        "SELECT application_id, id FROM assessments WHERE application_id = ANY(:ids)",
        ids,
    )
    assignments = _grouped(
        connection,
        "SELECT application_id, id FROM assignments WHERE application_id = ANY(:ids)",
        ids,
    )
    reviews = _grouped(
        connection,
        "SELECT application_id, status FROM reviews WHERE application_id = ANY(:ids)",
        ids,
    )
    review_ids = _grouped(
        connection, "SELECT application_id, id FROM reviews WHERE application_id = ANY(:ids)", ids
    )
    review_responses = _grouped(
        connection,
        "SELECT v.application_id, r.id FROM review_responses r JOIN reviews v"
        " ON v.id = r.review_id WHERE v.application_id = ANY(:ids)",
        ids,
    )
    decisions = _latest_decisions(connection, ids)
    audit = _grouped(connection, AUDIT, ids)
    events = _grouped(connection, EVENTS, ids)
    every_review = [r for found in review_ids.values() for r in found]
    per_review = _grouped(connection, EVENTS, every_review)
    return Counter(
        Cycle(
            status=status.get(case, ("MISSING", None)),
            responses=tuple(sorted(responses[case].items())),
            assessments=len(assessments[case]),
            assignments=len(assignments[case]),
            reviews=tuple(sorted(reviews[case])),
            review_responses=len(review_responses[case]),
            review_decisions=decisions.get(case, ()),
            audit=tuple(audit[case]),
            events=tuple(events[case]),
            review_events=tuple(t for r in review_ids[case] for t in per_review[r]),
        )
        for case in ids
    )


def _latest_decisions(
    connection: Connection, ids: list[str]
) -> dict[str, tuple[tuple[str, str | None], ...]]:
    """Per application: each element's decision on its latest answer."""
    rows = connection.execute(
        text(
            "SELECT v.application_id, a.element_code, r.decision FROM review_responses r"
            " JOIN reviews v ON v.id = r.review_id"
            " JOIN application_responses a ON a.id = r.target_id"
            " WHERE v.application_id = ANY(:ids) AND a.version = (SELECT max(version)"
            "  FROM application_responses b WHERE b.application_id = a.application_id"
            "  AND b.element_code = a.element_code)"
            " ORDER BY a.element_code"
        ),
        {"ids": ids},
    )
    found: dict[str, list[tuple[str, str | None]]] = {}
    for case, element, decision in rows:
        found.setdefault(case, []).append((element, decision))
    return {case: tuple(pairs) for case, pairs in found.items()}


@dataclass(frozen=True)
class Release:
    """One result's rows: the outcome, its release, its SLAs and its element's."""

    status: tuple[str, str | None]
    audit: tuple[str, ...]
    events: tuple[str, ...]
    slas: tuple[tuple[str, str, tuple[str, ...]], ...]  # definition, status, log kinds
    element_slas: tuple[tuple[str, str, tuple[str, ...]], ...]


def releases(connection: Connection, ids: list[str]) -> Counter[Release]:
    """The signature of each result's release, counted."""
    rows = connection.execute(
        text("SELECT id, status, release_method, element_id FROM outcomes WHERE id = ANY(:ids)"),
        {"ids": ids},
    ).all()
    status = {row.id: (row.status, row.release_method) for row in rows}
    element_of = {row.id: row.element_id for row in rows}
    audit = _grouped(connection, AUDIT, ids)
    events = _grouped(connection, EVENTS, ids)
    slas = _slas(connection, ids)
    element_slas = _slas(connection, [e for e in element_of.values() if e])
    return Counter(
        Release(
            status=status.get(case, ("MISSING", None)),
            audit=tuple(sorted(audit[case])),  # its SLA's rows interleave with its own
            events=tuple(events[case]),
            slas=slas.get(case, ()),
            element_slas=element_slas.get(element_of.get(case) or "", ()),
        )
        for case in ids
    )


def _slas(
    connection: Connection, subjects: list[str]
) -> dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]]:
    rows = connection.execute(
        text(
            "SELECT i.subject, i.definition, i.status,"
            " array_agg(l.kind ORDER BY l.seq) AS kinds FROM sla_instances i"
            " JOIN sla_log l ON l.instance_id = i.id WHERE i.subject = ANY(:ids)"
            " GROUP BY i.id ORDER BY i.definition"
        ),
        {"ids": subjects},
    )
    found: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    for subject, definition, sla_status, kinds in rows:
        found.setdefault(subject, []).append((definition, sla_status, tuple(kinds)))
    return {subject: tuple(each) for subject, each in found.items()}


def trails(connection: Connection, ids: list[str]) -> Counter[tuple[tuple[str, ...], ...]]:
    """Each case's audit actions and event types (sorted), counted."""
    audit = _grouped(connection, AUDIT, ids)
    events = _grouped(connection, EVENTS, ids)
    return Counter((tuple(sorted(audit[case])), tuple(sorted(events[case]))) for case in ids)


def running_slas(connection: Connection) -> int:
    """SLA instances not stopped yet."""
    return int(
        connection.execute(
            text("SELECT count(*) FROM sla_instances WHERE stopped_at IS NULL")
        ).scalar_one()
    )


def totals(connection: Connection) -> dict[str, int]:
    """Row counts of the tables the workload writes."""
    tables = [
        "applications",
        "application_responses",
        "assessments",
        "assignments",
        "reviews",
        "review_responses",
        "audit_log",
        "outbox_events",
        "outcomes",
        "release_batches",
        "release_batch_items",
        "sla_instances",
        "sla_log",
        "checklist_syncs",
        "checklist_sync_changes",
    ]
    return {
        table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        for table in tables
    }


def feed_order(connection: Connection) -> list[str]:
    """Every event's public id in the outbox's own order."""
    rows = connection.execute(text("SELECT public_id FROM outbox_events ORDER BY id"))
    return [str(public_id) for (public_id,) in rows]


def duplicates(connection: Connection) -> dict[str, int]:
    """Rows that say the same thing twice (each must be 0)."""
    checks = {
        "drafts per applicant": "SELECT count(*) - count(DISTINCT applicant_id) FROM applications",
        "SLAs per subject": (
            "SELECT count(*) - count(DISTINCT (definition, subject)) FROM sla_instances"
        ),
        "event ids": "SELECT count(*) - count(DISTINCT public_id) FROM outbox_events",
        "releases per outcome": (
            "SELECT count(*) - count(DISTINCT subject) FROM outbox_events"
            " WHERE type = 'result.released'"
        ),
        "SLA stops per instance": (
            "SELECT count(*) - count(DISTINCT instance_id) FROM sla_log WHERE kind = 'STOP'"
        ),
    }
    return {name: int(connection.execute(text(sql)).scalar_one()) for name, sql in checks.items()}
