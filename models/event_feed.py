"""The event feed's read: the outbox in write order, never skipping a row that a running
transaction may still commit (the API's `GET /v1/events` and the webhook deliveries)."""

from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import Session

# Taken before reading: the highest id handed out so far, and whether a transaction that
# may still commit a lower id is writing to the outbox (it holds RowExclusiveLock on it).
_HORIZON = text(
    "SELECT COALESCE(pg_sequence_last_value("
    "pg_get_serial_sequence('outbox_events', 'id')::regclass), 0) AS high, "
    "EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'outbox_events'::regclass "
    "AND mode = 'RowExclusiveLock' AND granted AND pid <> pg_backend_pid()) AS busy"
)
_PAGE = text(
    "SELECT id, public_id, type, subject, occurred_at, data FROM outbox_events "
    "WHERE id > :after AND id <= :high ORDER BY id LIMIT :limit"
)


class EventPublic(BaseModel):
    """One event as consumers read it (outcome events carry no grade before release)."""

    id: str
    type: str
    subject: str
    occurred_at: datetime
    data: dict[str, Any]


class FeedRow(NamedTuple):
    """One event at its feed position."""

    position: int
    event: EventPublic


def read_feed(session: Session, after: int, limit: int) -> tuple[list[FeedRow], int]:
    """Events after position `after`, stopping at a gap a running transaction may still
    fill; and the position read through."""
    horizon = session.execute(_HORIZON).one()
    rows = session.execute(_PAGE, {"after": after, "high": horizon.high, "limit": limit}).all()
    items: list[FeedRow] = []
    position = after
    for row in rows:
        if horizon.busy and row.id != position + 1:
            break  # an earlier id may still commit: deliver it first, on a later poll
        event = EventPublic(
            id=str(row.public_id),
            type=row.type,
            subject=row.subject,
            occurred_at=row.occurred_at,
            data=row.data,
        )
        items.append(FeedRow(row.id, event))
        position = row.id
    return items, position
