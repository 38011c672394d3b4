"""SLAs: instances with elapsed and paused time; admins publish new definition versions."""

from datetime import UTC, datetime

from fastapi import APIRouter, status
from sqlmodel import col, select

from api.deps import PagingDep, SessionDep
from api.fields import same_named
from api.pagination import Page
from api.roles import SlaPublisher, SlaReader
from api.routing import ReadRoute
from api.services import report_queries
from api.services.report import SHAPES, fetch_page
from domain.errors import Invalid, NotFound, field_error
from domain.report import ReportName
from domain.values import Code, Id
from models.report import SlaFilters
from models.sla import (
    SlaCalendar,
    SlaCalendarCreate,
    SlaCalendarPublic,
    SlaDefinition,
    SlaDefinitionCreate,
    SlaPublic,
    latest_calendar,
    zone_in_database,
)

router = APIRouter(tags=["slas"], route_class=ReadRoute)


@router.get("/v1/slas")
def list_slas(
    session: SessionDep,
    caller: SlaReader,
    *,
    definition: Code | None = None,
    subject: Id | None = None,
    breached: bool | None = None,
    paging: PagingDep,
) -> Page[SlaPublic]:
    """SLA instances newest first, elapsed and paused time summed from their logs in SQL."""
    statement = report_queries.sla(
        SlaFilters(definition=definition, subject=subject, breached=breached),
        now=datetime.now(UTC),
    )
    rows, next_cursor = fetch_page(
        session, statement, SHAPES[ReportName.SLA], limit=paging.limit, cursor=paging.cursor
    )
    items = [SlaPublic.model_validate(row) for row in rows]
    return Page[SlaPublic](items=items, next_cursor=next_cursor)


@router.post("/v1/sla-definitions/{code}", status_code=status.HTTP_201_CREATED)
def publish_definition(
    code: Code, body: SlaDefinitionCreate, session: SessionDep, caller: SlaPublisher
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
        if body.calendar is not None and latest_calendar(session, body.calendar) is None:
            message = f"SLA calendar {body.calendar} does not exist"
            raise Invalid(message, errors=[field_error("calendar", message)])
        version = latest.version + 1
        session.add(
            SlaDefinition(
                code=code,
                version=version,
                published_at=datetime.now(UTC),
                **same_named(latest, "name", "start_event", "stop_event", "pause_rule"),
                **same_named(body, "goal_s", "warning_fractions", "calendar"),
            )
        )
    return {"code": code, "version": version}


@router.post("/v1/sla-calendars/{code}", status_code=status.HTTP_201_CREATED)
def publish_calendar(
    code: Code, body: SlaCalendarCreate, session: SessionDep, caller: SlaPublisher
) -> dict[str, object]:
    """A new version of calendar `code` (the first is 1); running SLAs keep theirs."""
    with session.begin():
        if not zone_in_database(session, body.timezone):
            message = f"{body.timezone!r} is not a time zone the database knows"
            raise Invalid(message, errors=[field_error("timezone", message)])
        latest = latest_calendar(session, code, lock=True)
        version = 1 if latest is None else latest.version + 1
        session.add(
            SlaCalendar(
                code=code,
                version=version,
                published_at=datetime.now(UTC),
                **same_named(body, "timezone", "working_hours", "holidays"),
            )
        )
    return {"code": code, "version": version}


@router.get("/v1/sla-calendars/{code}")
def get_calendar(code: Code, session: SessionDep, caller: SlaReader) -> SlaCalendarPublic:
    """The calendar's latest version."""
    found = latest_calendar(session, code)
    if found is None:
        raise NotFound(f"SLA calendar {code} does not exist")
    return SlaCalendarPublic.model_validate(found, from_attributes=True)


@router.get("/v1/sla-calendars/{code}/versions/{version}")
def get_calendar_version(
    code: Code, version: int, session: SessionDep, caller: SlaReader
) -> SlaCalendarPublic:
    """One version of the calendar, as SLAs started on it count by it."""
    found = session.get(SlaCalendar, (code, version)) if 0 < version < 2**31 else None
    if found is None:
        raise NotFound(f"SLA calendar {code} has no version {version}")
    return SlaCalendarPublic.model_validate(found, from_attributes=True)
