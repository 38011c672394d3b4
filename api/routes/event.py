"""GET /v1/events: the transactional outbox in write order, with a cursor that never skips.

The order is the rows' internal sequence; an event's `id` is its opaque public id.
"""

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import Session

from api.deps import SessionDep
from api.pagination import MAX_CURSOR_CHARS, MAX_POSITION
from api.roles import EventReader
from domain.errors import Invalid, field_error

router = APIRouter(prefix="/v1/events", tags=["events"])

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


class EventPage(BaseModel):
    """A page of events; pass `next_cursor` as `after` to continue (it is always set)."""

    items: list[EventPublic]
    next_cursor: str


def encode(position: int) -> str:
    """The opaque cursor after the event at `position` in the feed."""
    return base64.urlsafe_b64encode(f"ev:{position}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    """The feed position a cursor points after; 422 naming `after` when it was not made here."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
            raise ValueError("not an event cursor")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, position = raw.partition(":")
        if prefix != "ev" or not (position.isascii() and position.isdigit()):
            raise ValueError("not an event cursor")
        if len(position) > len(str(MAX_POSITION)) or int(position) > MAX_POSITION:
            raise ValueError("not an event cursor")
        return int(position)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise Invalid("the cursor is not valid", errors=[field_error("after", str(exc))]) from exc


def read_page(session: Session, after: int, limit: int) -> tuple[list[EventPublic], int]:
    """Events after `after`, stopping at a gap a running transaction may still fill."""
    horizon = session.execute(_HORIZON).one()
    rows = session.execute(_PAGE, {"after": after, "high": horizon.high, "limit": limit}).all()
    items: list[EventPublic] = []
    position = after
    for row in rows:
        if horizon.busy and row.id != position + 1:
            break  # an earlier id may still commit: deliver it first, on a later poll
        items.append(
            EventPublic(
                id=str(row.public_id),
                type=row.type,
                subject=row.subject,
                occurred_at=row.occurred_at,
                data=row.data,
            )
        )
        position = row.id
    return items, position


@router.get("")
def list_events(
    session: SessionDep,
    caller: EventReader,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """Events in the order they were written, after the cursor (admin, integration)."""
    items, position = read_page(session, decode(after) if after else 0, limit)
    return EventPage(items=items, next_cursor=encode(position))
