"""Set-based release writes, shared by single releases, batches and the benchmark.

Every function runs inside the caller's transaction and writes the audit rows and outbox
events of what it changed; `released_at IS NULL` in the UPDATE makes a release happen once.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    TextClause,
    and_,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col

from domain.outcome import BatchItemState, OutcomeStatus, ReleaseMethod
from models.action import Action, ActionStatus
from models.event import AuditEntry
from models.outcome import Outcome, action_key, action_key_sql


@dataclass(frozen=True)
class Released:
    """One outcome the statement released."""

    id: str
    kind: str
    grade: str
    candidate_id: str
    element_id: str | None


# One round trip per call: the guarded UPDATE, the to-dos, audit rows and events together.
_RELEASE = text(
    f"""
    WITH released AS (
        UPDATE outcomes
        SET status = '{OutcomeStatus.RELEASED}', released_at = :at, release_method = :method,
            revision = revision + 1, updated_at = :at
        WHERE id = ANY(:ids) AND status = '{OutcomeStatus.PENDING_RELEASE}' AND released_at IS NULL
          AND (CAST(:owner AS text) IS NULL OR (schedule_owner = CAST(:owner AS text)
               AND scheduled_release_at = CAST(:scheduled_at AS timestamptz)))
        RETURNING id, kind, grade, candidate_id, element_id
    ), detail AS (
        SELECT r.*, r.kind || ':' || r.id || '\\:released' AS key,
               jsonb_build_object('release_method', CAST(:method AS text),
                                  'released_at', CAST(:at_text AS text)) AS detail
        FROM released r
    ), todos AS (
        UPDATE actions SET status = '{ActionStatus.DONE}', updated_at = :at, closed_at = :at
        WHERE key IN (SELECT {action_key_sql("kind", "id")} FROM released)
          AND status <> '{ActionStatus.DONE}'
    ), audit AS (
        INSERT INTO audit_log (subject_kind, subject_id, at, actor, action, detail, dedupe_key)
        SELECT kind, id, :at, :actor, 'released', detail, key FROM detail
        ON CONFLICT (dedupe_key) DO NOTHING
    ), events AS (
        INSERT INTO outbox_events (type, subject, occurred_at, data, dedupe_key)
        SELECT kind || '.released', id, :at,
               jsonb_build_object('id', id, 'kind', kind, 'candidate_id', candidate_id,
                                  'element_id', element_id, 'grade', grade) || detail,
               key
        FROM (SELECT * FROM detail ORDER BY kind, id) ordered
        ON CONFLICT (dedupe_key) DO NOTHING
    )
    SELECT id, kind, grade, candidate_id, element_id FROM released ORDER BY kind, id
    """
)


def release_outcomes(
    session: Session,
    ids: Sequence[str],
    *,
    method: ReleaseMethod,
    at: datetime,
    actor: str,
    schedule_owner: str | None = None,
    scheduled_at: datetime | None = None,
) -> list[Released]:
    """Release those of `ids` still pending (and, for a timer, still on that schedule).

    Each released outcome's to-do is done, and it gets one audit row and one
    `{kind}.released` event with the grade, all in the caller's transaction.
    """
    rows = session.execute(
        _RELEASE,
        {
            "ids": list(ids),
            "at": at,
            "at_text": at.isoformat(),
            "method": method,
            "actor": actor,
            "owner": schedule_owner,
            "scheduled_at": scheduled_at,
        },
    ).all()
    session.expire_all()  # ORM objects loaded earlier in the transaction are stale now
    return [Released(*row) for row in rows]


def _close_actions(session: Session, keys: list[str], at: datetime) -> None:
    session.execute(
        update(Action)
        .where(col(Action.key).in_(keys), col(Action.status) != ActionStatus.DONE)
        .values(status=ActionStatus.DONE, updated_at=at, closed_at=at)
    )


def set_release_actions(
    session: Session, candidate_id: str, status: ActionStatus, at: datetime
) -> int:
    """Pause (or reopen) the open release to-dos of a candidate's pending outcomes."""
    keys = select(literal_column(action_key_sql("outcomes.kind", "outcomes.id"), String())).where(
        col(Outcome.candidate_id) == candidate_id,
        col(Outcome.status) == OutcomeStatus.PENDING_RELEASE,
    )
    source = ActionStatus.OPEN if status == ActionStatus.PAUSED else ActionStatus.PAUSED
    result = session.execute(
        update(Action)
        .where(col(Action.key).in_(keys), col(Action.status) == source)
        .values(status=status, updated_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def take_schedule(
    session: Session, ids: Sequence[str], *, owner: str, release_at: datetime, at: datetime
) -> list[str]:
    """Point the schedule of those of `ids` still pending at `owner`; return the ids taken."""
    rows = session.execute(
        update(Outcome)
        .where(
            col(Outcome.id).in_(list(ids)),
            col(Outcome.status) == OutcomeStatus.PENDING_RELEASE,
            col(Outcome.released_at).is_(None),
        )
        .values(
            scheduled_release_at=release_at,
            schedule_owner=owner,
            revision=col(Outcome.revision) + 1,
            updated_at=at,
        )
        .returning(col(Outcome.id))
    ).all()
    return [row[0] for row in rows]


def _keyed_audit_and_events(action: str) -> str:
    """CTEs writing an audit row and a `{kind}.{action}` event per row of `keyed`, in
    outcome-id order (code points, as Python sorts), so event ids follow it."""
    return f""", audit AS (
        INSERT INTO audit_log (subject_kind, subject_id, at, actor, action, detail, dedupe_key)
        SELECT kind, id, :at, :actor, '{action}', detail, key
        FROM (SELECT * FROM keyed ORDER BY id COLLATE "C") ordered
        ON CONFLICT (dedupe_key) DO NOTHING
    ), events AS (
        INSERT INTO outbox_events (type, subject, occurred_at, data, dedupe_key)
        SELECT kind || '.{action}', id, :at,
               jsonb_build_object('id', id, 'kind', kind) || detail, key
        FROM (SELECT * FROM keyed ORDER BY id COLLATE "C") ordered
        ON CONFLICT (dedupe_key) DO NOTHING
    )"""


# One round trip for a whole batch: take the schedules, mark the items, audit rows, events.
# Rows are written in outcome-id order (code points, as Python sorts), so event ids follow it.
_SCHEDULE_BATCH = text(
    f"""
    WITH taken AS (
        UPDATE outcomes
        SET scheduled_release_at = :release_at, schedule_owner = :owner,
            revision = revision + 1, updated_at = :at
        WHERE id IN (SELECT outcome_id FROM release_batch_items WHERE batch_id = :batch_id)
          AND status = '{OutcomeStatus.PENDING_RELEASE}' AND released_at IS NULL
        RETURNING id, kind
    ), marked AS (
        UPDATE release_batch_items SET state = '{BatchItemState.SCHEDULED}'
        WHERE batch_id = :batch_id AND outcome_id IN (SELECT id FROM taken)
    ), keyed AS (
        SELECT id, kind, kind || ':' || id || CAST(:key_suffix AS text) AS key,
               jsonb_build_object('release_at', CAST(:release_at_text AS text),
                                  'batch_id', CAST(:batch_id AS text)) AS detail
        FROM taken
    ){_keyed_audit_and_events("release_scheduled")}
    SELECT count(*) FROM taken
    """
)


def take_batch_schedule(
    session: Session, batch_id: str, *, release_at: datetime, actor: str, at: datetime
) -> int:
    """Point the schedule of every still-pending outcome of the batch at `batch:{id}`.

    Set-based, in the caller's transaction: each outcome taken has its item marked
    `SCHEDULED`, one audit row and one `{kind}.release_scheduled` event (no grade), keyed
    `{kind}:{id}:scheduled:{release_at}:batch:{batch_id}` so a retry writes neither again.
    Returns how many outcomes were taken; the batch's other items are left as they were.
    """
    return _batch_schedule_write(
        session, _SCHEDULE_BATCH, "scheduled", batch_id, release_at, at=at, actor=actor
    )


# A cancelled batch gives its schedules up: the outcomes stay pending, with no schedule.
_DROP_BATCH_SCHEDULE = text(
    f"""
    WITH dropped AS (
        UPDATE outcomes
        SET scheduled_release_at = NULL, schedule_owner = NULL,
            revision = revision + 1, updated_at = :at
        WHERE id IN (SELECT outcome_id FROM release_batch_items
                     WHERE batch_id = :batch_id AND state = '{BatchItemState.SCHEDULED}')
          AND schedule_owner = :owner AND released_at IS NULL
        RETURNING id, kind
    ), keyed AS (
        SELECT id, kind, kind || ':' || id || CAST(:key_suffix AS text) AS key,
               jsonb_build_object('reason', CAST(:reason AS text),
                                  'release_at', CAST(:release_at_text AS text),
                                  'batch_id', CAST(:batch_id AS text)) AS detail
        FROM dropped
    ){_keyed_audit_and_events("release_unscheduled")}
    SELECT count(*) FROM dropped
    """
)


def drop_batch_schedule(
    session: Session, batch_id: str, *, release_at: datetime, reason: str, actor: str, at: datetime
) -> int:
    """Give up the schedule of every outcome the batch still holds (they stay pending).

    Set-based, in the caller's transaction, like `take_batch_schedule`: one audit row and
    one `{kind}.release_unscheduled` event per outcome, keyed so a retry writes neither
    again. Returns how many schedules were dropped.
    """
    return _batch_schedule_write(
        session,
        _DROP_BATCH_SCHEDULE,
        "unscheduled",
        batch_id,
        release_at,
        at=at,
        actor=actor,
        reason=reason,
    )


def _batch_schedule_write(
    session: Session,
    statement: TextClause,
    step: str,
    batch_id: str,
    release_at: datetime,
    **params: object,
) -> int:
    """Run one set-based schedule change of a batch's outcomes (held as `batch:{id}`; audit
    and events keyed `{kind}:{id}:{step}:{release_at}:batch:{id}`); how many it changed."""
    release_at_text = release_at.isoformat()
    changed = session.execute(
        statement,
        {
            "batch_id": batch_id,
            "owner": f"batch:{batch_id}",
            "release_at": release_at,
            "release_at_text": release_at_text,
            "key_suffix": f":{step}:{release_at_text}:batch:{batch_id}",
            **params,
        },
    ).scalar_one()
    session.expire_all()  # ORM objects loaded earlier in the transaction are stale now
    return int(changed)


def legacy_candidates() -> ColumnElement[bool]:
    """Outcomes complete before release tracking existed and never released since."""
    return and_(
        col(Outcome.tracked).is_(False),
        col(Outcome.released_at).is_(None),
        col(Outcome.completed_at).is_not(None),
        or_(
            col(Outcome.status) == OutcomeStatus.PENDING_RELEASE,
            col(Outcome.status) == OutcomeStatus.SUBMITTED,
        ),
    )


def backfill_legacy(engine: Engine, *, at: datetime) -> int:
    """Mark legacy outcomes released on their completion date (method LEGACY), once.

    Audit rows only: consumers of the older service already heard of these outcomes,
    so no `*.released` events are replayed to them.
    """
    with Session(engine) as session, session.begin():
        rows = session.execute(
            update(Outcome)
            .where(legacy_candidates())
            .values(
                status=OutcomeStatus.RELEASED,
                released_at=col(Outcome.completed_at),
                release_method=ReleaseMethod.LEGACY,
                revision=col(Outcome.revision) + 1,
                updated_at=at,
            )
            .returning(col(Outcome.id), col(Outcome.kind), col(Outcome.completed_at))
        ).all()
        if rows:
            _close_actions(session, [action_key(kind, oid) for oid, kind, _ in rows], at)
            audits = [
                {
                    "subject_kind": kind,
                    "subject_id": oid,
                    "at": at,
                    "actor": "backfill",
                    "action": "released",
                    "detail": {
                        "release_method": ReleaseMethod.LEGACY,
                        "released_at": completed_at.isoformat(),
                    },
                    "dedupe_key": f"{kind}:{oid}:released",
                }
                for oid, kind, completed_at in rows
            ]
            session.execute(insert(AuditEntry).on_conflict_do_nothing(), audits)
        return len(rows)
