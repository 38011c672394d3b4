"""GET /v1/events: the transactional outbox in write order, with a cursor that never skips.

The order is the rows' internal sequence; an event's `id` is its opaque public id.
"""

import base64
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import SessionDep
from api.pagination import MAX_CURSOR_CHARS, MAX_POSITION
from api.roles import EventReader
from api.routing import ReadRoute
from domain.errors import Invalid, field_error
from models.event_feed import EventPublic, read_feed

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=ReadRoute)


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
    rows, position = read_feed(session, after, limit)
    items = [row.event for row in rows]
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
