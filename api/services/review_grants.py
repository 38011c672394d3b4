"""Review grants reaching open cases: the one path that creating and changing a user take."""

import asyncio
import logging
from collections.abc import Iterable

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api import commands
from domain.review_guards import OPEN_FOR_CLAIMS
from models.application import Application
from models.user import ReviewGrant
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import workflow_id
from workflows.payloads.review import RefreshAssignmentsInput

log = logging.getLogger("casework.api")

# A case busy with another change refuses the refresh: try again, a little later each time
# (about 8 s in all).
BUSY_RETRIES = 12
BUSY_PAUSE_S = 0.05
BUSY_PAUSE_MAX_S = 1.0


def open_applications_under(session: Session, grants: Iterable[ReviewGrant]) -> list[str]:
    """Open applications currently at a (template, stage, level) one of `grants` names."""
    keys = {(g.template_code, g.stage, g.level) for g in grants}
    if not keys:
        return []
    rows = session.exec(
        select(Application.id, Application.template_code, Application.stage, Application.level)
        .where(col(Application.status).in_(OPEN_FOR_CLAIMS))
        .where(col(Application.template_code).in_({k[0] for k in keys}))
    ).all()
    return [row[0] for row in rows if (row[1], row[2], row[3]) in keys]


async def follow_grants(
    engine: Engine, temporal: Client, grants: Iterable[ReviewGrant], *, actor: str
) -> None:
    """Untaken rows of every open case at a level `grants` name follow the stored grants
    (call after the user's change is committed; a refresh changes nothing twice)."""
    affected = await run_in_threadpool(_affected, engine, list(grants))
    gate = asyncio.Semaphore(16)

    async def refresh(application_id: str) -> None:
        async with gate:
            await _refresh(engine, temporal, application_id, actor)

    await asyncio.gather(*(refresh(application_id) for application_id in affected))


def _affected(engine: Engine, grants: list[ReviewGrant]) -> list[str]:
    with Session(engine) as session:
        return open_applications_under(session, grants)


async def _refresh(engine: Engine, temporal: Client, application_id: str, actor: str) -> None:
    handle = temporal.get_workflow_handle_for(
        ApplicationReviewWorkflow.run, workflow_id(application_id)
    )
    for attempt in range(BUSY_RETRIES):
        try:
            await handle.execute_update(
                ApplicationReviewWorkflow.refresh_assignments,
                RefreshAssignmentsInput(actor=actor),
                id=commands.update_id(part=application_id),
            )
            return
        except WorkflowUpdateFailedError:
            if not await run_in_threadpool(_is_open, engine, application_id):
                return  # it ended meanwhile: nothing to follow
            await asyncio.sleep(min(BUSY_PAUSE_S * 2**attempt, BUSY_PAUSE_MAX_S))
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            log.warning("application %s is open but has no workflow", application_id)
            return  # an orphaned case: reconcile restarts it, and its rows follow then
    log.warning(
        "application %s stayed busy: its rows follow the grants at the next PATCH of them",
        application_id,
    )


def _is_open(engine: Engine, application_id: str) -> bool:
    with Session(engine) as session:
        status = session.exec(
            select(Application.status).where(Application.id == application_id)
        ).one_or_none()
        return status in OPEN_FOR_CLAIMS
