"""Users (admin): create, read, change roles and review grants."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.deps import SessionDep, allow
from api.services import user as users
from domain.access import Principal, can_manage_users
from models.user import UserCreate, UserPublic, UserUpdate

router = APIRouter(prefix="/v1/users", tags=["users"])
Admin = Annotated[Principal, Depends(allow(can_manage_users, "manage users"))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, caller: Admin) -> UserPublic:
    """Create a user with roles and review grants."""
    return users.create(session, body, actor=caller.sub, at=datetime.now(UTC))


@router.get("/{user_id}")
def get_user(user_id: str, session: SessionDep, caller: Admin) -> UserPublic:
    """One user."""
    return users.get(session, user_id)


@router.patch("/{user_id}")
def update_user(user_id: str, body: UserUpdate, session: SessionDep, caller: Admin) -> UserPublic:
    """Change a user's name, roles or review grants."""
    return users.update(session, user_id, body, actor=caller.sub, at=datetime.now(UTC))
