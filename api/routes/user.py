"""Users (admin): create, read, change roles and review grants."""

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowUpdateFailedError

from api import commands
from api.deps import EngineDep, SessionDep, TemporalDep, allow
from api.services import user as users
from domain.access import Principal, can_manage_users
from domain.values import UserId
from models.user import UserCreate, UserPublic, UserUpdate
from workflows.application import ApplicationReviewWorkflow
from workflows.application_start import workflow_id
from workflows.payloads.review import RefreshAssignmentsInput

router = APIRouter(prefix="/v1/users", tags=["users"])
Admin = Annotated[Principal, Depends(allow(can_manage_users, "manage users"))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, caller: Admin) -> UserPublic:
    """Create a user with roles and review grants."""
    return users.create(session, body, actor=caller.sub, at=datetime.now(UTC))


@router.get("/{user_id}")
def get_user(user_id: UserId, session: SessionDep, caller: Admin) -> UserPublic:
    """One user."""
    return users.get(session, user_id)


@router.patch("/{user_id}")
async def update_user(
    user_id: UserId, body: UserUpdate, engine: EngineDep, temporal: TemporalDep, caller: Admin
) -> UserPublic:
    """Change a user's name, roles or review grants; open assignments follow the grants."""
    before, after, affected = await run_in_threadpool(_update, engine, user_id, body, caller.sub)
    if before.review_grants != after.review_grants:
        gate = asyncio.Semaphore(16)

        async def refresh(application_id: str) -> None:
            async with gate:
                handle = temporal.get_workflow_handle_for(
                    ApplicationReviewWorkflow.run, workflow_id(application_id)
                )
                with contextlib.suppress(WorkflowUpdateFailedError):  # it ended meanwhile
                    await handle.execute_update(
                        ApplicationReviewWorkflow.refresh_assignments,
                        RefreshAssignmentsInput(actor=caller.sub),
                        id=commands.update_id(part=application_id),
                    )

        await asyncio.gather(*(refresh(application_id) for application_id in affected))
    return after


def _update(
    engine: Engine, user_id: str, body: UserUpdate, actor: str
) -> tuple[UserPublic, UserPublic, list[str]]:
    with Session(engine) as session:
        before = users.get(session, user_id)
    with Session(engine) as session:
        after = users.update(session, user_id, body, actor=actor, at=datetime.now(UTC))
    with Session(engine) as session:
        grants = [g.model_dump() for g in (*before.review_grants, *after.review_grants)]
        return before, after, users.open_applications_under(session, grants)
