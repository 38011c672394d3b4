"""Read routes cost one thread-pool trip (decision 0099) and answer as FastAPI would."""

import asyncio.base_events
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import httpx
import pytest
from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api.app import create_app
from api.routing import ReadRoute
from core.settings import Settings
from tests.support.seed import seed_draft, seed_template
from tests.support.tokens import SECRET, bearer


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions run in the thread pool (every `run_in_threadpool`)."""
    names: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        names.append(getattr(func, "__qualname__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return names


@pytest.fixture
async def app_client(db: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """The whole app on the test database; its Temporal client is lazy and never dials."""
    settings = Settings(
        auth_secret=SECRET, database_url="unused://", temporal_address="127.0.0.1:1"
    )
    app = create_app(settings, engine=db)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://casework.test"
        ) as client,
    ):
        yield client


async def test_the_readers_routes_make_one_trip_each(
    db: Engine, app_client: httpx.AsyncClient, trips: list[str]
) -> None:
    seed_template(db)
    application_id = seed_draft(db, applicant="alice")
    staff, owner = bearer("rita", "reviewer"), bearer("alice", "applicant")

    listed = await app_client.get("/v1/applications?limit=20", headers=staff)
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [application_id]
    assert len(trips) == 1, trips

    trips.clear()
    one = await app_client.get(f"/v1/applications/{application_id}", headers=owner)
    assert one.status_code == 200, one.text
    assert one.json()["id"] == application_id
    assert one.headers["content-type"] == "application/json"
    assert len(trips) == 1, trips


async def test_pending_list_and_a_report_page_make_one_trip_each(
    app_client: httpx.AsyncClient, trips: list[str]
) -> None:
    admin = bearer("ada", "admin")
    for path in ("/v1/outcome-releases/pending", "/v1/reports/outcome-releases?from=2026-01-01"):
        trips.clear()
        answer = await app_client.get(path, headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"] == []
        assert len(trips) == 1, (path, trips)


async def test_refusals_and_misses_keep_their_answers(
    db: Engine, app_client: httpx.AsyncClient
) -> None:
    seed_template(db)
    application_id = seed_draft(db, applicant="alice")
    stranger = await app_client.get(
        f"/v1/applications/{application_id}", headers=bearer("bob", "applicant")
    )
    missing = await app_client.get(
        "/v1/applications/00000000-0000-4000-8000-000000000000", headers=bearer("rita", "reviewer")
    )
    refused = await app_client.get("/v1/applications", headers=bearer("alice", "applicant"))
    anonymous = await app_client.get("/v1/applications")
    assert (stranger.status_code, missing.status_code) == (404, 404)
    assert refused.status_code == 403
    assert anonymous.status_code == 401
    for answer in (stranger, missing, refused, anonymous):
        assert answer.headers["content-type"].startswith("application/problem+json")


class Inner(BaseModel):
    at: datetime
    label: str = Field(alias="Label")


class Outer(BaseModel):
    items: list[Inner]
    note: str | None = None


def _twin_apps() -> tuple[FastAPI, FastAPI]:
    """The same handlers on FastAPI's own route class and on ReadRoute."""
    apps = []
    for route_class in (None, ReadRoute):
        router = APIRouter(route_class=route_class) if route_class else APIRouter()

        @router.get("/model")
        def model(n: int = 2) -> Outer:
            """A model answer."""
            at = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
            return Outer(items=[Inner(at=at, Label=f"ü{i}") for i in range(n)])

        @router.get("/dict", response_model=Outer, response_model_exclude_none=True)
        def plain() -> dict[str, Any]:
            """A dict validated into the response model."""
            return {"items": [{"at": "2026-12-02T15:00:00Z", "Label": "x"}], "note": None}

        @router.get("/headers")
        def headers(response: Response) -> dict[str, str]:
            """A handler that sets a header on FastAPI's response."""
            response.headers["X-Set"] = "yes"
            return {"ok": "yes"}

        @router.get("/broken")
        def broken() -> Outer:
            """An answer that does not fit its model."""
            return {"items": "no"}  # type: ignore[return-value]

        app = FastAPI()
        app.include_router(router)
        apps.append(app)
    return apps[0], apps[1]


async def test_read_route_answers_byte_for_byte_as_fastapi_does(trips: list[str]) -> None:
    fastapi_app, read_app = _twin_apps()
    assert fastapi_app.openapi() == read_app.openapi()
    answers, set_headers = [], []
    for app in (fastapi_app, read_app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            trips.clear()
            got = [await client.get(path) for path in ("/model?n=3", "/dict", "/headers")]
            got.append(await client.get("/model?n=x"))
            got.append(await client.get("/broken"))
            answers.append([(r.status_code, r.headers.get("content-type"), r.content) for r in got])
            set_headers.append(got[2].headers.get("x-set"))
            if app is read_app:
                # model and dict: one trip each; the Response-taking handler is left to FastAPI
                # (route + validation); the 422 never reaches the handler; broken: one trip
                assert len(trips) == 1 + 1 + 2 + 0 + 1, trips
    assert answers[0] == answers[1]
    assert set_headers == ["yes", "yes"]
    assert [status for status, _type, _body in answers[1][:5]] == [200, 200, 200, 422, 500]


async def test_a_served_app_sends_its_answers_without_waiting_for_acks(
    app_client: httpx.AsyncClient,
) -> None:
    # uvicorn --workers binds with proto 0, which asyncio's own TCP_NODELAY skips
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as accepted:
        assert accepted.proto == 0
        asyncio.base_events._set_nodelay(accepted)  # type: ignore[attr-defined]
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
