"""Users: create, get, update (admin only; each change audited)."""

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from domain.errors import Conflict, NotFound
from models.event import Change
from models.user import User, UserCreate, UserPublic, UserUpdate


def to_public(user: User) -> UserPublic:
    """The API's view of a user row."""
    return UserPublic.model_validate(user, from_attributes=True)


def create(session: Session, body: UserCreate, *, actor: str, at: datetime) -> UserPublic:
    """Create a user; 409 when the id is taken."""
    user = User(
        id=body.id,
        name=body.name,
        roles=[role.value for role in body.roles],
        review_grants=[grant.model_dump() for grant in body.review_grants],
        created_at=at,
        updated_at=at,
    )
    try:
        with session.begin():
            session.add(user)
            session.flush()
            _audit(session, user, actor=actor, at=at, action="created")
    except IntegrityError as exc:
        raise Conflict(f"user {body.id} already exists") from exc
    return to_public(user)


def get(session: Session, user_id: str) -> UserPublic:
    """One user; 404 when absent."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return to_public(user)


def update(
    session: Session, user_id: str, body: UserUpdate, *, actor: str, at: datetime
) -> UserPublic:
    """Change the fields given (under a row lock); 404 when absent."""
    with session.begin():
        user = session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        changes = body.model_dump(exclude_unset=True, mode="json")
        for field, value in changes.items():
            setattr(user, field, value)
        user.updated_at = at
        session.add(user)
        _audit(session, user, actor=actor, at=at, action="updated", detail=changes)
    return to_public(user)


def _audit(
    session: Session,
    user: User,
    *,
    actor: str,
    at: datetime,
    action: str,
    detail: dict[str, object] | None = None,
) -> None:
    key = f"user:{user.id}:{action}:{at.isoformat()}"
    Change("user", user.id, action, actor, at, key).audit(
        session, detail or {"roles": user.roles, "review_grants": user.review_grants}
    )
