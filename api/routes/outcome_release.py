"""Outcome releases: the pending list, release now or scheduled (single or bulk), batches."""

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from api.deps import EngineDep, PagingDep, SessionDep, SettingsDep, TemporalDep
from api.pagination import Page
from api.query import query_values
from api.roles import PendingReader, Releaser
from api.routing import ReadRoute
from api.services import outcome_release as releases
from domain.errors import Invalid
from domain.outcome import MAX_DIRECT_RELEASE, OutcomeKind, check_release_at
from domain.values import Id
from models.outcome import (
    BatchAccepted,
    BatchProgress,
    OutcomeInternal,
    OutcomeRef,
    PendingRelease,
    ReleaseChange,
    ReleaseRequest,
    ReleaseResults,
)

router = APIRouter(prefix="/v1/outcome-releases", tags=["outcome releases"], route_class=ReadRoute)


PENDING_QUERY = query_values(
    releases.PendingFilters,
    [field.name for field in dataclasses.fields(releases.PendingFilters)],
    aliases={"from_at": "from", "to_at": "to"},
)


@router.get("/pending")
def pending_releases(
    session: SessionDep,
    caller: PendingReader,
    query: Annotated[dict[str, Any], Depends(PENDING_QUERY)],
    paging: PagingDep,
) -> Page[PendingRelease]:
    """Outcomes pending release of active candidates (`from`/`to` bound the completion time)."""
    filters = releases.PendingFilters(**query)
    return releases.pending(session, filters, limit=paging.limit, cursor=paging.cursor)


@router.post("", responses={202: {"model": BatchAccepted}})
async def release(
    body: ReleaseRequest,
    response: Response,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    caller: Releaser,
) -> ReleaseResults | BatchAccepted:
    """Up to 100 outcomes: answered one by one (200). More: a batch workflow (202)."""
    now = datetime.now(UTC)
    refs = list({(ref.kind, ref.id): ref for ref in body.outcomes}.values())
    try:
        check_release_at(mode=body.mode, release_at=body.release_at, now=now)
    except Invalid:
        if not await releases.sent_before(engine, temporal, refs):
            raise
    if len(refs) <= MAX_DIRECT_RELEASE:

        async def release(ref: OutcomeRef) -> OutcomeInternal:
            return await releases.release_one(engine, temporal, caller, ref, body, now)

        results = await releases.release_each(refs, release)
        return ReleaseResults(results=results)
    batch_id = await releases.start_batch(
        engine,
        temporal,
        caller,
        refs,
        mode=body.mode,
        release_at=body.release_at,
        task_queue=settings.task_queue,
        at=now,
    )
    response.status_code = status.HTTP_202_ACCEPTED
    return BatchAccepted(batch_id=batch_id)


@router.patch("/{kind}/{outcome_id}")
async def change_release(
    kind: OutcomeKind,
    outcome_id: Id,
    body: ReleaseChange,
    engine: EngineDep,
    temporal: TemporalDep,
    caller: Releaser,
) -> OutcomeInternal:
    """Move a scheduled release, or release now (which cancels the schedule's timer)."""
    ref = OutcomeRef(kind=kind, id=outcome_id)
    return await releases.release_one(engine, temporal, caller, ref, body, datetime.now(UTC))


@router.get("/batches/{batch_id}")
def batch_progress(batch_id: Id, session: SessionDep, caller: PendingReader) -> BatchProgress:
    """How far a bulk release has got, and why items were skipped."""
    return releases.batch_progress(session, batch_id)
