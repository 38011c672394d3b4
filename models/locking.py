"""One row read under a row lock, for the rest of the caller's transaction."""

from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select

from domain.errors import NotFound

T = TypeVar("T", bound=SQLModel)


def lock_row(
    session: Session, model: type[T], *where: Any, missing: str, shared: bool = False
) -> T:
    """The row of `model` matching `where`, locked (`shared`: FOR SHARE, so writers wait);
    NotFound(`missing`) when there is none."""
    row = session.exec(select(model).where(*where).with_for_update(read=shared)).one_or_none()
    if row is None:
        raise NotFound(missing)
    return row
