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
            _change(user, actor, at, "created").audit(session, _grants(user))
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
        _change(user, actor, at, "updated").audit(session, changes or _grants(user))
    return to_public(user)


def _change(user: User, actor: str, at: datetime, action: str) -> Change:
    """A change to `user`, keyed by its instant."""
    return Change("user", user.id, action, actor, at, f"user:{user.id}:{action}:{at.isoformat()}")


def _grants(user: User) -> dict[str, object]:
    """What an audit row on a user says when nothing else is named: its roles and grants."""
    return {"roles": user.roles, "review_grants": user.review_grants}
