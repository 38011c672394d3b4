"""Dependencies every route shares: settings, database session, Temporal client, caller."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from core.settings import Settings
from domain.access import Principal
from domain.values import Cursor

_bearer = HTTPBearer(auto_error=False, description="HS256 JWT minted by `cli.py token`")


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """The app's one engine."""
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One session per request."""
    with Session(engine) as session:
        yield session


def get_temporal(request: Request) -> Client:
    """The app's one Temporal client."""
    client: Client = request.app.state.temporal
    return client


def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller the boundary verified before anything else (`credentials` documents it)."""
    principal = request.state._state.get("principal")
    if not isinstance(principal, Principal):
        raise HTTPException(
            401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


@dataclass(frozen=True)
class Paging:
    """`?limit=&cursor=` of a list route."""

    limit: int
    cursor: str | None


def get_paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Cursor | None = None,
) -> Paging:
    """The page a list route is asked for."""
    return Paging(limit, cursor)


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
CallerDep = Annotated[Principal, Depends(get_caller)]
PagingDep = Annotated[Paging, Depends(get_paging)]


def allow(check: Callable[[Principal], bool], what: str) -> Callable[[Principal], Principal]:
    """A dependency that lets through only callers `check` accepts (403 otherwise)."""

    def dependency(caller: CallerDep) -> Principal:
        if not check(caller):
            raise HTTPException(403, f"your roles do not allow you to {what}")
        return caller

    return dependency
