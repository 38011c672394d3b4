"""SLAs: instances with elapsed and paused time; admins publish new definition versions."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import tuple_
from sqlmodel import col, select

from api.deps import SessionDep, allow
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor
from domain.access import Principal, can_manage_users
from domain.errors import NotFound
from domain.sla import SlaStatus
from models.sla import SlaDefinition, SlaDefinitionCreate, SlaInstance, SlaPublic, timings

router = APIRouter(tags=["slas"])
Internal = Annotated[Principal, Depends(allow(lambda who: who.is_internal, "read SLAs"))]
Admin = Annotated[Principal, Depends(allow(can_manage_users, "publish SLA definitions"))]


@router.get("/v1/slas")
def list_slas(
    session: SessionDep,
    caller: Internal,
    definition: str | None = None,
    subject: str | None = None,
    breached: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[SlaPublic]:
    """SLA instances newest first, with elapsed and paused time derived from their logs."""
    query = select(SlaInstance)
    if definition is not None:
        query = query.where(SlaInstance.definition == definition)
    if subject is not None:
        query = query.where(SlaInstance.subject == subject)
    if breached is not None:
        query = query.where(
            col(SlaInstance.breached_at).is_not(None)
            if breached
            else col(SlaInstance.breached_at).is_(None)
        )
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(
            tuple_(col(SlaInstance.started_at), col(SlaInstance.id)) < tuple_(after_at, after_id)
        )
    rows = session.exec(
        query.order_by(col(SlaInstance.started_at).desc(), col(SlaInstance.id).desc()).limit(
            limit + 1
        )
    ).all()
    now = datetime.now(UTC)
    items = []
    for row in rows[:limit]:
        elapsed_s, paused_s = timings(session, row, row.stopped_at or now)
        items.append(
            SlaPublic(
                definition=row.definition,
                version=row.version,
                subject=row.subject,
                status=SlaStatus(row.status),
                started_at=row.started_at,
                stopped_at=row.stopped_at,
                elapsed_s=elapsed_s,
                paused_s=paused_s,
                goal_s=row.goal_s,
                breached_at=row.breached_at,
                warned=row.warned,
            )
        )
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = encode_cursor(last.started_at, last.id) if last else None
    return Page[SlaPublic](items=items, next_cursor=next_cursor)


@router.post("/v1/sla-definitions/{code}", status_code=status.HTTP_201_CREATED)
def publish_definition(
    code: str, body: SlaDefinitionCreate, session: SessionDep, caller: Admin
) -> dict[str, object]:
    """A new version of `code`; running instances keep the version they started on."""
    with session.begin():
        latest = session.exec(
            select(SlaDefinition)
            .where(SlaDefinition.code == code)
            .order_by(col(SlaDefinition.version).desc())
            .limit(1)
            .with_for_update()
        ).first()
        if latest is None:
            raise NotFound(f"SLA definition {code} does not exist")
        version = latest.version + 1
        session.add(
            SlaDefinition(
                code=code,
                version=version,
                name=latest.name,
                start_event=latest.start_event,
                stop_event=latest.stop_event,
                pause_rule=latest.pause_rule,
                goal_s=body.goal_s,
                warning_fractions=body.warning_fractions,
                published_at=datetime.now(UTC),
            )
        )
    return {"code": code, "version": version}
