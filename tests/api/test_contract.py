"""Every operation keeps the contract its /openapi.json declares, whoever calls it."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.errors import problem
from core.settings import Settings
from tests.api import contract
from tests.support.tokens import SECRET, bearer
from worker import build_worker

CALLERS: dict[str, Callable[[], dict[str, str]]] = {
    "admin": lambda: bearer("contract-admin", "admin"),
    "applicant": lambda: bearer("contract-applicant", "applicant"),
    "candidate": lambda: bearer("contract-candidate", "candidate", org="contract-candidate-org"),
}
SELF_CHECK = "/v1/contract-self-check"


@asynccontextmanager
async def serve(
    app: FastAPI, engine: Engine, env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on `app`, with a worker on the test's task queue (like the `api` fixture)."""
    worker = build_worker(env.client, engine, task_queue=task_queue, threads=8)
    transport = httpx.ASGITransport(app=app)
    async with (
        worker,
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=contract.BASE_URL) as client,
    ):
        yield client


def build(engine: Engine, env: WorkflowEnvironment, task_queue: str) -> FastAPI:
    """The app as the `api` fixture builds it."""
    settings = Settings(auth_secret=SECRET, task_queue=task_queue, database_url="unused://")
    return create_app(settings, engine=engine, temporal=env.client)


@pytest.mark.parametrize("caller", sorted(CALLERS))
async def test_every_operation_keeps_the_declared_contract(
    caller: str, db: Engine, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with serve(build(db, dev_env, task_queue), db, dev_env, task_queue) as client:
        schema = await contract.load(client)
        targets = contract.operations(schema)
        failures = await contract.run(client, targets, headers=CALLERS[caller]())
    assert len(targets) > 60
    assert not failures, contract.report(failures)


class Shape(BaseModel):
    """What the self-check's mis-shaped route declares it answers."""

    name: str


def with_broken_routes(app: FastAPI) -> FastAPI:
    """A copy of the app with routes that raise, answer 500, and answer another shape."""

    @app.get(f"{SELF_CHECK}/raises/{{item_id}}")
    def raises(item_id: str) -> Shape:
        raise RuntimeError(f"the contract run must report this ({item_id})")

    @app.get(f"{SELF_CHECK}/fails")
    def fails() -> JSONResponse:
        # What a catch-all turns an exception into: declared, and still a server error.
        return problem(500, "an unexpected error")

    @app.get(f"{SELF_CHECK}/misshapen", response_model=Shape)
    def misshapen() -> JSONResponse:
        return JSONResponse({"name": 42})

    return app


async def test_the_contract_run_reports_server_errors_and_a_wrong_body(
    db: Engine, dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    app = with_broken_routes(build(db, dev_env, task_queue))
    async with serve(app, db, dev_env, task_queue) as client:
        schema = await contract.load(client)
        paths = {
            f"{SELF_CHECK}/raises/{{item_id}}",
            f"{SELF_CHECK}/fails",
            f"{SELF_CHECK}/misshapen",
            "/healthz",
        }
        targets = [op for op in contract.operations(schema) if op.path in paths]
        failures = await contract.run(
            client,
            targets,
            headers=CALLERS["admin"](),
            budget=contract.Budget(positive=1, negative=0, examples=False),
        )
    assert len(targets) == 4
    broken = {(failure.operation, failure.check) for failure in failures}
    assert (f"GET {SELF_CHECK}/raises/{{item_id}}", "not_a_server_error") in broken
    assert (f"GET {SELF_CHECK}/fails", "not_a_server_error") in broken
    assert (f"GET {SELF_CHECK}/misshapen", "response_schema_conformance") in broken
    healthy = {check for operation, check in broken if operation == "GET /healthz"}
    assert not healthy & {"not_a_server_error", "response_schema_conformance"}
