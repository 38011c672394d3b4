"""One trace per command: HTTP route → update-with-start → workflow → activity → SQL."""

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.db import make_engine
from core.settings import Settings
from core.telemetry import temporal_tracing, untrace_engines
from tests.api.flows import ready_draft
from tests.support.tokens import SECRET, bearer
from worker import build_worker

ALICE = bearer("alice", "applicant")


@pytest.fixture
async def traced(
    db: Engine, database_url: str, dev_env: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    """The app and a worker, traced into memory: a provider, a traced client and engine."""
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    config = dev_env.client.config()
    config["interceptors"] = temporal_tracing(provider)
    client = Client(**config)
    engine = make_engine(database_url)
    settings = Settings(auth_secret=SECRET, task_queue=task_queue, database_url="unused://")
    app = create_app(settings, engine=engine, temporal=client, tracer_provider=provider)
    worker = build_worker(client, engine, task_queue=task_queue, threads=4)
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            worker,
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://casework.test") as http,
        ):
            yield http, spans
    finally:
        untrace_engines()
        engine.dispose()


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain: list[ReadableSpan] = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_a_submit_is_one_trace_from_the_route_to_the_sql_of_its_activity(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    http, spans = traced
    application_id = await ready_draft(http, ALICE)
    spans.clear()

    response = await http.post(f"/v1/applications/{application_id}/submit", headers=ALICE)

    assert response.status_code == 200, response.text
    finished = spans.get_finished_spans()
    by_id = {span.context.span_id: span for span in finished}
    server = [
        s
        for s in finished
        if s.kind == SpanKind.SERVER and s.name == "POST /v1/applications/{application_id}/submit"
    ]
    assert len(server) == 1, [s.name for s in finished]
    sql_in_activities = [
        s
        for s in finished
        if s.kind == SpanKind.CLIENT
        and {"db.statement", "db.query.text"} & set(s.attributes or {})
        and any(a.name.startswith("RunActivity:") for a in _ancestors(s, by_id))
    ]
    assert sql_in_activities, sorted({s.name for s in finished})
    chain = [a.name for a in _ancestors(sql_in_activities[0], by_id)]
    activity = next(name for name in chain if name.startswith("RunActivity:"))
    assert chain.index(activity) < chain.index(activity.replace("Run", "Start", 1))
    assert "StartUpdateWithStartWorkflow:ApplicationReviewWorkflow" in chain
    assert chain[-1] == server[0].name  # the route's server span is the root
    assert chain.index(activity) < chain.index(
        "StartUpdateWithStartWorkflow:ApplicationReviewWorkflow"
    )
    whole = [sql_in_activities[0], *_ancestors(sql_in_activities[0], by_id)]
    assert {span.context.trace_id for span in whole} == {server[0].context.trace_id}
