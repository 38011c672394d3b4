"""Release requests: one outcome at a time through its workflow, or a batch workflow."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import Session, col, or_, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import commands
from api.errors import refusal_from_update
from api.fields import same_named
from api.idempotency import rerun_on_retry
from api.pagination import Page, encode_cursor, newest_first
from api.services.outcome import internal_view, load
from core.settings import critical_queue
from domain.access import Principal
from domain.errors import Conflict, NotFound, Refusal
from domain.outcome import (
    ACTIVE_CANDIDATE_STATUSES,
    MAX_DIRECT_RELEASE,
    BatchStatus,
    OutcomeKind,
    OutcomeStatus,
    ReleaseMode,
    check_release_at,
)
from domain.values import Id, Instant, Label, SearchText
from models.candidate import Candidate, Element
from models.outcome import (
    BatchProgress,
    Outcome,
    OutcomeInternal,
    OutcomeRef,
    PendingRelease,
    ReleaseBatch,
    ReleaseBatchItem,
    ReleaseChange,
    ReleaseItemResult,
    ReleaseRequest,
)
from models.release_batch import item_counts
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.outcome_batch import OutcomeReleaseBatchWorkflow
from workflows.outcome_start import batch_workflow_id, workflow_id
from workflows.payloads.outcome import (
    OutcomeSnapshot,
    ReleaseNowInput,
    ScheduleReleaseInput,
    StartReleaseBatchInput,
)

# Workflow updates in flight at once for one request (the dev server saturates early).
DIRECT_CONCURRENCY = 16


@dataclass(frozen=True)
class PendingFilters:
    """Filters of GET /v1/outcome-releases/pending."""

    kind: OutcomeKind | None = None
    provider_id: Id | None = None
    employer_id: Id | None = None
    candidate_id: Id | None = None
    uln: Label | None = None
    standard: Label | None = None
    cohort: Label | None = None
    component: Label | None = None
    q: SearchText | None = None
    from_at: Instant | None = None  # completed at or after
    to_at: Instant | None = None  # completed before


def pending(
    session: Session, filters: PendingFilters, *, limit: int, cursor: str | None
) -> Page[PendingRelease]:
    """Outcomes pending release whose candidate exists and is active, newest completed first."""
    query = (
        select(Outcome, Candidate, Element.component)
        .join(Candidate, col(Candidate.id) == col(Outcome.candidate_id))
        .outerjoin(Element, col(Element.id) == col(Outcome.element_id))
        .where(
            Outcome.status == OutcomeStatus.PENDING_RELEASE,
            col(Candidate.status).in_(sorted(ACTIVE_CANDIDATE_STATUSES)),
        )
    )
    equal = {
        Outcome.kind: filters.kind,
        Candidate.provider_id: filters.provider_id,
        Candidate.employer_id: filters.employer_id,
        Candidate.id: filters.candidate_id,
        Candidate.uln: filters.uln,
        Candidate.standard: filters.standard,
        Candidate.cohort: filters.cohort,
        Element.component: filters.component,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(col(column) == value)
    if filters.q:
        pattern = f"%{filters.q}%"
        query = query.where(
            or_(col(Candidate.name).ilike(pattern), col(Candidate.uln).ilike(pattern))
        )
    if filters.from_at:
        query = query.where(col(Outcome.completed_at) >= filters.from_at)
    if filters.to_at:
        query = query.where(col(Outcome.completed_at) < filters.to_at)
    at, id = col(Outcome.completed_at), col(Outcome.id)
    rows = session.exec(newest_first(query, at, id, cursor=cursor, limit=limit)).all()
    items = [_pending_row(outcome, candidate, component) for outcome, candidate, component in rows]
    last = rows[limit - 1][0] if len(rows) > limit else None
    next_cursor = encode_cursor(last.completed_at, last.id) if last and last.completed_at else None
    return Page[PendingRelease](items=items[:limit], next_cursor=next_cursor)


def _pending_row(outcome: Outcome, candidate: Candidate, component: str | None) -> PendingRelease:
    return PendingRelease.model_validate(
        {
            **outcome.model_dump(include={"kind", "id", "grade", "completed_at"}),
            "scheduled_release_at": outcome.scheduled_release_at,
            "candidate_id": candidate.id,
            "candidate_name": candidate.name,
            **candidate.model_dump(include={"uln", "provider_id", "employer_id", "standard"}),
            "cohort": candidate.cohort,
            "component": component,
        }
    )


def _handle(temporal: Client, ref: OutcomeRef) -> WorkflowHandle[Any, Any]:
    return temporal.get_workflow_handle_for(
        OutcomeReleaseWorkflow.run, workflow_id(ref.kind, ref.id)
    )


def _part(ref: OutcomeRef) -> str:
    """Which update of a keyed request is this outcome's (one request may release 100)."""
    return f"{ref.kind}-{ref.id}"


async def sent_before(engine: Engine, temporal: Client, refs: list[OutcomeRef]) -> bool:
    """Whether an earlier attempt of this keyed request already took effect.

    Such a retry must get the first outcome even once its `release_at` has passed: the
    first attempt scheduled the releases (or recorded the batch) while it was still ahead.
    """
    if commands.update_id() is None:
        return False
    if len(refs) > MAX_DIRECT_RELEASE:
        return await run_in_threadpool(_batch_recorded, engine, commands.new_id())

    async def sent(ref: OutcomeRef) -> bool:
        try:
            found = await commands.earlier_outcome(
                _handle(temporal, ref), OutcomeSnapshot, part=_part(ref)
            )
        except WorkflowUpdateFailedError:
            return True  # it was sent, and refused: the retry tells that again
        return found is not None

    return any(await asyncio.gather(*(sent(ref) for ref in refs)))


def _batch_recorded(engine: Engine, batch_id: str) -> bool:
    with Session(engine) as session:
        return session.get(ReleaseBatch, batch_id) is not None


async def release_one(
    engine: Engine,
    temporal: Client,
    who: Principal,
    ref: OutcomeRef,
    change: ReleaseChange | ReleaseRequest,
    now: datetime,
) -> OutcomeInternal:
    """Release one outcome now, or (re)schedule it, as `change` (its mode and instant) asks,
    through its workflow.

    A keyed retry whose first attempt sent the update gets its outcome; otherwise the
    request is checked as of `now` (a retry after the instant passed is refused, as a new
    request would be).
    """
    handle = _handle(temporal, ref)
    part = _part(ref)
    mode, release_at = change.mode, change.release_at
    if await commands.earlier_outcome(handle, OutcomeSnapshot, part=part) is None:
        check_release_at(mode=mode, release_at=release_at, now=now)
        await run_in_threadpool(_releasable, engine, who, ref)
        update_id = commands.update_id(part=part)
        if mode == ReleaseMode.NOW:
            await handle.execute_update(
                OutcomeReleaseWorkflow.release_now, ReleaseNowInput(actor=who.sub), id=update_id
            )
        else:
            assert release_at is not None
            await handle.execute_update(
                OutcomeReleaseWorkflow.schedule_release,
                ScheduleReleaseInput(actor=who.sub, release_at=release_at),
                id=update_id,
            )
    return await run_in_threadpool(_reload, engine, ref.id)


async def release_each(
    refs: list[OutcomeRef], release: Callable[[OutcomeRef], Awaitable[OutcomeInternal]]
) -> list[ReleaseItemResult]:
    """Up to 100 outcomes, each released by `release` (`release_one` with the request's
    mode) and answered on its own (a refusal of one spares the others)."""
    gate = asyncio.Semaphore(DIRECT_CONCURRENCY)

    async def one(ref: OutcomeRef) -> ReleaseItemResult:
        async with gate:
            try:
                view = await release(ref)
            except Refusal as refusal:
                return ReleaseItemResult(
                    kind=ref.kind, id=ref.id, status=refusal.status, detail=refusal.detail
                )
            except WorkflowUpdateFailedError as error:
                refused = refusal_from_update(error)
                return ReleaseItemResult(
                    kind=ref.kind, id=ref.id, status=refused.status, detail=refused.detail
                )
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
                return ReleaseItemResult(
                    kind=ref.kind, id=ref.id, status=409, detail="the outcome is not open"
                )
            return ReleaseItemResult(kind=ref.kind, id=ref.id, status=200, outcome=view)

    return list(await asyncio.gather(*(one(ref) for ref in refs)))


def _releasable(engine: Engine, who: Principal, ref: OutcomeRef) -> Outcome:
    with Session(engine) as session:
        outcome, _ = load(session, who, ref.kind, ref.id)
    if outcome.status == OutcomeStatus.RELEASED:
        raise Conflict(
            f"the {ref.kind} was already released ({outcome.release_method})", allowed=[]
        )
    return outcome


def _reload(engine: Engine, outcome_id: str) -> OutcomeInternal:
    with Session(engine) as session:
        outcome = session.get(Outcome, outcome_id)
        assert outcome is not None
        return internal_view(outcome)


async def start_batch(
    engine: Engine,
    temporal: Client,
    who: Principal,
    refs: list[OutcomeRef],
    *,
    mode: ReleaseMode,
    release_at: datetime | None,
    task_queue: str,
    at: datetime,
) -> str:
    """Record the batch and its items, then start its workflow; returns the batch id.

    The workflow runs on the time-critical queue beside `task_queue` (decision 0091).

    Both steps are keyed by the batch id (the key's, in a keyed request), so a retry after
    a crash or an unreachable Temporal between them records nothing twice and starts the
    workflow the first attempt could not.
    """
    batch_id = commands.new_id()
    await run_in_threadpool(_record_batch, engine, who, refs, batch_id, mode, release_at, at)
    with contextlib.suppress(WorkflowAlreadyStartedError):  # the first attempt started it
        await temporal.start_workflow(
            OutcomeReleaseBatchWorkflow.run,
            StartReleaseBatchInput(
                batch_id=batch_id, mode=mode, release_at=release_at, actor=who.sub
            ),
            id=batch_workflow_id(batch_id),
            task_queue=critical_queue(task_queue),
            static_summary=f"Release {len(refs)} outcomes {mode}",
        )
    return batch_id


def _record_batch(
    engine: Engine,
    who: Principal,
    refs: list[OutcomeRef],
    batch_id: str,
    mode: ReleaseMode,
    release_at: datetime | None,
    at: datetime,
) -> None:
    with Session(engine) as session, session.begin():
        rerun_on_retry(session)
        if session.get(ReleaseBatch, batch_id) is not None:
            return  # recorded by an earlier attempt of the same keyed request
        session.add(
            ReleaseBatch(
                id=batch_id,
                mode=mode,
                release_at=release_at,
                status=BatchStatus.QUEUED,
                total=len(refs),
                requested_by=who.sub,
                created_at=at,
                updated_at=at,
            )
        )
        session.flush()
        rows = [
            {"batch_id": batch_id, "position": n, "kind": ref.kind, "outcome_id": ref.id}
            for n, ref in enumerate(refs)
        ]
        session.execute(insert(ReleaseBatchItem).values(rows))


def batch_progress(session: Session, batch_id: str) -> BatchProgress:
    """Counts per item state, and why items were skipped."""
    batch = session.get(ReleaseBatch, batch_id)
    if batch is None:
        raise NotFound(f"release batch {batch_id} does not exist")
    counts = item_counts(session, batch_id)
    shown = same_named(batch, "id", "mode", "status", "release_at", "total", "completed_at")
    return BatchProgress(skipped_reasons=counts.skipped_reasons, **counts.by_state(), **shown)
