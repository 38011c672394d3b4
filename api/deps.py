"""Dependencies every route shares: settings, database session, Temporal client, caller.

They are `async def` although they never await: FastAPI runs a plain `def` dependency in
the thread pool, and a hop there and back costs more than these functions do (bench/
request_cost.py). Only the session's close, which may talk to PostgreSQL, goes there.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from core.settings import Settings
from domain.access import Principal
from domain.values import Cursor

_bearer = HTTPBearer(auto_error=False, description="HS256 JWT minted by `cli.py token`")


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """The app's one engine."""
    engine: Engine = request.app.state.engine
    return engine


async def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> AsyncIterator[Session]:
    """One session per request: opening it does no I/O; closing a used one hands its
    connection back to the pool (a rollback), so that runs in the thread pool."""
    session = Session(engine)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_temporal(request: Request) -> Client:
    """The app's one Temporal client."""
    client: Client = request.app.state.temporal
    return client


async def get_caller(
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


async def get_paging(
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


def allow(
    check: Callable[[Principal], bool], what: str
) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only callers `check` accepts (403 otherwise)."""

    async def dependency(caller: CallerDep) -> Principal:
        if not check(caller):
            raise HTTPException(403, f"your roles do not allow you to {what}")
        return caller

    return dependency
