"""GET /v1/reports/{name}: pass-fail, first-time-pass, outcome-releases, sla, result-tracking.

Every report takes `from`/`to` (an instant with a zone, or a bare date counted in `tz`),
`format=json` (paged) or `format=csv` (the whole report, streamed), and the same filters
in both formats. External users read only the outcome reports, holding only their
organisation's released outcomes.
"""

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.deps import CallerDep, EngineDep, SessionDep
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from api.services.report import page, statement_for, stream_csv
from domain.access import Principal
from domain.errors import Forbidden, NotFound
from domain.outcome import OutcomeKind, ReleaseMethod
from domain.report import (
    ReportFormat,
    ReportName,
    TrackingDate,
    check_window,
    may_read,
    report_zone,
    window_bound,
)
from domain.sla import SlaStatus
from domain.values import Code, Cursor, Id, InstantOrDay, Label
from models.report import (
    FirstTimePassRow,
    OutcomeFilters,
    OutcomeReleaseRow,
    PassFailRow,
    ReportPage,
    ResultTrackingRow,
    SlaFilters,
    SlaReportRow,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])

CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "the report (CSV when format=csv)"}
}


@dataclasses.dataclass(frozen=True)
class Common:
    """What every report takes: the window, the zone, the format and the page."""

    from_at: datetime | None
    to_at: datetime | None
    tz: str
    format: ReportFormat
    limit: int
    cursor: str | None


def common(
    from_: Annotated[InstantOrDay | None, Query(alias="from", description="inclusive")] = None,
    to: Annotated[
        InstantOrDay | None, Query(description="exclusive; a bare date is included")
    ] = None,
    tz: Annotated[Label, Query(description="IANA zone for days and bare dates")] = "UTC",
    format: ReportFormat = ReportFormat.JSON,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="json only")] = DEFAULT_LIMIT,
    cursor: Annotated[Cursor | None, Query(description="json only")] = None,
) -> Common:
    """Parse and check the window (422 for an unknown zone or an empty window)."""
    report_zone(tz)
    from_at, to_at = window_bound(from_, tz), window_bound(to, tz, end=True)
    check_window(from_at, to_at)
    return Common(from_at, to_at, tz, format, limit, cursor)


CommonDep = Annotated[Common, Depends(common)]


def outcome_filters(
    window: CommonDep,
    kind: OutcomeKind | None = None,
    provider_id: Id | None = None,
    employer_id: Id | None = None,
    candidate_id: Id | None = None,
    standard: Label | None = None,
    cohort: Label | None = None,
    component: Label | None = None,
) -> OutcomeFilters:
    """The filters the outcome reports share."""
    return OutcomeFilters(
        from_at=window.from_at,
        to_at=window.to_at,
        kind=kind,
        provider_id=provider_id,
        employer_id=employer_id,
        candidate_id=candidate_id,
        standard=standard,
        cohort=cohort,
        component=component,
        tz=window.tz,
    )


FiltersDep = Annotated[OutcomeFilters, Depends(outcome_filters)]


def _reader(name: ReportName) -> Any:
    def dependency(caller: CallerDep) -> Principal:
        if not may_read(caller, name):
            raise Forbidden(f"your roles do not allow you to read the {name} report")
        return caller

    return Depends(dependency)


def _answer(
    name: ReportName,
    who: Principal,
    filters: OutcomeFilters | SlaFilters,
    window: Common,
    session: SessionDep,
    engine: EngineDep,
) -> Any:
    statement, shape = statement_for(name, who, filters, now=datetime.now(UTC))
    if window.format == ReportFormat.CSV:
        stamp = "-".join(
            value.date().isoformat() for value in (window.from_at, window.to_at) if value
        )
        filename = f"{name}{'-' + stamp if stamp else ''}.csv"
        return StreamingResponse(
            stream_csv(engine, statement, shape),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )
    return page(session, name, statement, shape, limit=window.limit, cursor=window.cursor)


def _typed(row: type[BaseModel]) -> Any:
    return ReportPage[row]  # type: ignore[valid-type]


@router.get("/pass-fail", response_model=_typed(PassFailRow), responses=CSV)
def pass_fail(
    caller: Annotated[Principal, _reader(ReportName.PASS_FAIL)],
    session: SessionDep,
    engine: EngineDep,
    window: CommonDep,
    filters: FiltersDep,
) -> Any:
    """Passes, fails and voids per release day (counted when released, never when completed)."""
    return _answer(ReportName.PASS_FAIL, caller, filters, window, session, engine)


@router.get("/first-time-pass", response_model=_typed(FirstTimePassRow), responses=CSV)
def first_time_pass(
    caller: Annotated[Principal, _reader(ReportName.FIRST_TIME_PASS)],
    session: SessionDep,
    engine: EngineDep,
    window: CommonDep,
    filters: FiltersDep,
) -> Any:
    """First attempts per release day and how many passed (a void is no attempt)."""
    return _answer(ReportName.FIRST_TIME_PASS, caller, filters, window, session, engine)


@router.get("/outcome-releases", response_model=_typed(OutcomeReleaseRow), responses=CSV)
def outcome_releases(
    caller: Annotated[Principal, _reader(ReportName.OUTCOME_RELEASES)],
    session: SessionDep,
    engine: EngineDep,
    window: CommonDep,
    filters: FiltersDep,
    method: ReleaseMethod | None = None,
) -> Any:
    """Every release with its method, newest first (`from`/`to` bound the release)."""
    filters = dataclasses.replace(filters, method=method)
    return _answer(ReportName.OUTCOME_RELEASES, caller, filters, window, session, engine)


@router.get("/result-tracking", response_model=_typed(ResultTrackingRow), responses=CSV)
def result_tracking(
    caller: Annotated[Principal, _reader(ReportName.RESULT_TRACKING)],
    session: SessionDep,
    engine: EngineDep,
    window: CommonDep,
    filters: FiltersDep,
    date_field: TrackingDate = TrackingDate.SUBMITTED,
) -> Any:
    """Each result's progress (`kind=certification` for certifications); external users
    see no grade or date before release."""
    filters = dataclasses.replace(filters, date_field=date_field)
    return _answer(ReportName.RESULT_TRACKING, caller, filters, window, session, engine)


@router.get("/sla", response_model=_typed(SlaReportRow), responses=CSV)
def sla(
    caller: Annotated[Principal, _reader(ReportName.SLA)],
    session: SessionDep,
    engine: EngineDep,
    window: CommonDep,
    definition: Code | None = None,
    subject: Id | None = None,
    candidate_id: Id | None = None,
    status: SlaStatus | None = None,
    breached: bool | None = None,
) -> Any:
    """Per subject: definition version, started, stopped, elapsed, paused, goal, breached."""
    filters = SlaFilters(
        from_at=window.from_at,
        to_at=window.to_at,
        definition=definition,
        subject=subject,
        candidate_id=candidate_id,
        status=status,
        breached=breached,
    )
    return _answer(ReportName.SLA, caller, filters, window, session, engine)


@router.get("/{name}", include_in_schema=False)
def unknown(name: str, caller: CallerDep) -> None:
    """Any other name: 404 naming the reports there are."""
    known = ", ".join(report.value for report in ReportName)
    raise NotFound(f"there is no report {name!r}; the reports are: {known}")
