"""GET /v1/reports/{name}: pass-fail, first-time-pass, outcome-releases, sla, result-tracking.

Every report takes `from`/`to` (an instant with a zone, or a bare date counted in `tz`),
`format=json` (paged) or `format=csv` (the whole report, streamed), and the same filters
in both formats. External users read only the outcome reports, holding only their
organisation's released outcomes.
"""

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from api.deps import CallerDep, EngineDep, SessionDep
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from api.query import query_values
from api.routing import ReadRoute, add_route
from api.services.report import SHAPES, page, statement_for, stream_csv
from domain.access import Principal
from domain.errors import Forbidden, NotFound
from domain.report import (
    ReportFormat,
    ReportName,
    check_window,
    may_read,
    report_zone,
    window_bound,
)
from domain.values import Cursor, InstantOrDay, Label
from models.report import OutcomeFilters, ReportPage, SlaFilters

router = APIRouter(prefix="/v1/reports", tags=["reports"], route_class=ReadRoute)

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


async def common(  # async: no thread-pool hop (see api/deps.py)
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


F = TypeVar("F", OutcomeFilters, SlaFilters)
OUTCOME_QUERY = (
    "kind",
    "provider_id",
    "employer_id",
    "candidate_id",
    "standard",
    "cohort",
    "component",
)
SLA_QUERY = ("definition", "subject", "candidate_id", "status", "breached")


def filters_of(model: type[F], names: tuple[str, ...]) -> Callable[..., Awaitable[F]]:
    """A dependency reading the query parameters `names`, each typed and defaulted as the
    `model` field of that name, into a `model` bounded by the window (and in its zone)."""
    values = query_values(model, names)

    async def dependency(window: CommonDep, query: Annotated[dict[str, Any], Depends(values)]) -> F:
        bounds: dict[str, Any] = {"from_at": window.from_at, "to_at": window.to_at}
        if "tz" in {field.name for field in dataclasses.fields(model)}:
            bounds["tz"] = window.tz
        return model(**bounds, **query)

    return dependency


def _reader(name: ReportName) -> Any:
    async def dependency(caller: CallerDep) -> Principal:
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
    found = page(session, name, statement, shape, limit=window.limit, cursor=window.cursor)
    # Serialised once by its own typed model (response_model stays for the OpenAPI schema):
    # FastAPI would dump, validate again and re-encode every row.
    return Response(found.model_dump_json(), media_type="application/json")


def _typed(row: type[BaseModel]) -> Any:
    return ReportPage[row]  # type: ignore[valid-type]


def _outcome_report(
    name: ReportName,
    description: str,
    own: tuple[str, ...] = (),
) -> None:
    """Route `GET /v1/reports/{name}`: an outcome report, with the shared filters and its `own`."""
    narrowed = filters_of(OutcomeFilters, OUTCOME_QUERY + own)

    def report(
        caller: Annotated[Principal, _reader(name)],
        session: SessionDep,
        engine: EngineDep,
        window: CommonDep,
        filters: Annotated[OutcomeFilters, Depends(narrowed)],
    ) -> Any:
        return _answer(name, caller, filters, window, session, engine)

    route = router.get(f"/{name}", response_model=_typed(SHAPES[name].row), responses=CSV)
    add_route(route, report, name.value.replace("-", "_"), description)


_outcome_report(
    ReportName.PASS_FAIL,
    "Passes, fails and voids per release day (counted when released, never when completed).",
)
_outcome_report(
    ReportName.FIRST_TIME_PASS,
    "First attempts per release day and how many passed (a void is no attempt).",
)
_outcome_report(
    ReportName.OUTCOME_RELEASES,
    "Every release with its method, newest first (`from`/`to` bound the release).",
    ("method",),
)
_outcome_report(
    ReportName.RESULT_TRACKING,
    "Each result's progress (`kind=certification` for certifications); external users\n"
    "see no grade or date before release.",
    ("date_field",),
)


@router.get("/sla", response_model=_typed(SHAPES[ReportName.SLA].row), responses=CSV)
def sla(
    caller: Annotated[Principal, _reader(ReportName.SLA)],
    session: SessionDep,
    engine: EngineDep,
    window: CommonDep,
    filters: Annotated[SlaFilters, Depends(filters_of(SlaFilters, SLA_QUERY))],
) -> Any:
    """Per subject: definition version, started, stopped, elapsed, paused, goal, breached."""
    return _answer(ReportName.SLA, caller, filters, window, session, engine)


@router.get("/{name}", include_in_schema=False)
def unknown(name: str, caller: CallerDep) -> None:
    """Any other name: 404 naming the reports there are."""
    known = ", ".join(report.value for report in ReportName)
    raise NotFound(f"there is no report {name!r}; the reports are: {known}")
