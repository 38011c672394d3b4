"""Users (admin): create, read, change roles and review grants."""

from datetime import UTC, datetime

from fastapi import APIRouter, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, SessionDep, TemporalDep
from api.roles import UserAdmin
from api.routing import ReadRoute
from api.services import user as users
from api.services.review_grants import follow_grants
from domain.values import UserId
from models.user import UserCreate, UserPublic, UserUpdate

router = APIRouter(prefix="/v1/users", tags=["users"], route_class=ReadRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: UserCreate, engine: EngineDep, temporal: TemporalDep, caller: UserAdmin
) -> UserPublic:
    """Create a user with roles and review grants; open cases at a granted level get the
    user's rows at once."""
    created = await run_in_threadpool(_create, engine, body, caller.sub)
    await follow_grants(engine, temporal, created.review_grants, actor=caller.sub)
    return created


@router.get("/{user_id}")
def get_user(user_id: UserId, session: SessionDep, caller: UserAdmin) -> UserPublic:
    """One user."""
    return users.get(session, user_id)


@router.patch("/{user_id}")
async def update_user(
    user_id: UserId, body: UserUpdate, engine: EngineDep, temporal: TemporalDep, caller: UserAdmin
) -> UserPublic:
    """Change a user's name, roles or review grants; open assignments follow the grants."""
    before, after = await run_in_threadpool(_update, engine, user_id, body, caller.sub)
    if body.review_grants is not None:  # even unchanged: a retry after a crash catches up
        grants = [*before.review_grants, *after.review_grants]
        await follow_grants(engine, temporal, grants, actor=caller.sub)
    return after


def _create(engine: Engine, body: UserCreate, actor: str) -> UserPublic:
    with Session(engine) as session:
        return users.create(session, body, actor=actor, at=datetime.now(UTC))


def _update(
    engine: Engine, user_id: str, body: UserUpdate, actor: str
) -> tuple[UserPublic, UserPublic]:
    with Session(engine) as session:
        before = users.get(session, user_id)
    with Session(engine) as session:
        after = users.update(session, user_id, body, actor=actor, at=datetime.now(UTC))
    return before, after
