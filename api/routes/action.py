"""Actions: the caller's open to-dos (addressed to a role it holds, within its organisation)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import or_, tuple_
from sqlmodel import col, select

from api.deps import CallerDep, SessionDep
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor
from api.routing import ReadRoute
from domain.errors import Invalid, field_error
from models.action import Action, ActionPublic, ActionStatus, action_public

router = APIRouter(prefix="/v1/actions", tags=["actions"], route_class=ReadRoute)


@router.get("")
def list_actions(
    session: SessionDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ActionPublic]:
    """Open to-dos for any role the caller holds (an organisation's only for its members)."""
    query = select(Action).where(
        col(Action.status) == ActionStatus.OPEN,
        col(Action.role).in_(sorted(caller.roles)),
        or_(col(Action.org).is_(None), col(Action.org) == caller.org),
    )
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(
            tuple_(col(Action.created_at), col(Action.public_id))
            < tuple_(after_at, _uuid(after_id))
        )
    rows = session.exec(
        query.order_by(col(Action.created_at).desc(), col(Action.public_id).desc()).limit(limit + 1)
    ).all()
    items = [action_public(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = encode_cursor(last.created_at, str(last.public_id)) if last else None
    return Page[ActionPublic](items=items, next_cursor=next_cursor)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Invalid(
            "the cursor is not valid", errors=[field_error("cursor", "not an action cursor")]
        ) from exc
