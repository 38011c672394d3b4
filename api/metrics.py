"""`/metrics` for Prometheus: HTTP requests by route template, and the casework backlog.

The HTTP series come from a pure ASGI middleware (outermost, so a 401 counts too); the
business gauges are read from PostgreSQL at scrape time by a collector, so every replica
reports the same figures (aggregate them with max, not sum).
"""

import logging
import re
import time
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("casework.api")

UNMATCHED = "<unmatched>"  # any path no route serves: one series, not one per probe

_SLAS = text(
    "SELECT definition, status, stopped_at IS NULL AS open, count(*) "
    "FROM sla_instances GROUP BY 1, 2, 3"
)
_PENDING_RELEASES = text(
    "SELECT kind, scheduled_release_at IS NOT NULL AS scheduled, count(*) FROM outcomes "
    "WHERE status = 'PENDING_RELEASE' GROUP BY 1, 2"
)
_OPEN_LOQS = text(
    "SELECT count(*), count(*) FILTER (WHERE loq_deadline_at < now()) FROM applications "
    "WHERE status = 'CHANGES_REQUIRED'"
)

# Per subscription: attempts and failures recorded, and the wanted events not yet
# delivered (how many, and how old the oldest is).
_WEBHOOKS = text(
    "SELECT s.id, "
    "(SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id), "
    "(SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id "
    "AND (d.status_code IS NULL OR d.status_code NOT BETWEEN 200 AND 299)), "
    "count(e.id), COALESCE(EXTRACT(EPOCH FROM now() - min(e.occurred_at)), 0) "
    "FROM webhook_subscriptions s LEFT JOIN outbox_events e ON e.id > s.position "
    "AND (jsonb_exists(s.event_types, '*') OR jsonb_exists(s.event_types, e.type)) "
    "GROUP BY s.id"
)


class HttpMetrics:
    """Request count, latency and in-flight requests, labelled by route template."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("method", "route", "status")
        self.requests = Counter(
            "casework_http_requests", "HTTP requests answered", labels, registry=registry
        )
        self.duration = Histogram(
            "casework_http_request_duration_seconds",
            "time from request to the end of the answer",
            labels,
            registry=registry,
        )
        self.in_flight = Gauge(
            "casework_http_requests_in_flight", "HTTP requests being served", registry=registry
        )


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template and status."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.in_flight.dec()
            labels = (scope["method"], route_template(scope), str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.duration.labels(*labels).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """`/v1/reviews/{review_id}/submit`, not the path with its ids (bounded cardinality)."""
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str):
        return template
    app = scope.get("app")
    if not isinstance(app, FastAPI):
        return UNMATCHED
    # Answered before routing (a 401): match the documented paths, in routing order.
    path = scope["path"]
    return next((name for regex, name in _documented_paths(app) if regex.match(path)), UNMATCHED)


def _documented_paths(app: FastAPI) -> list[tuple[re.Pattern[str], str]]:
    cached: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "route_paths", None)
    if cached is None:
        cached = [(compile_path(path)[0], path) for path in app.openapi()["paths"]]
        app.state.route_paths = cached
    return cached


class BacklogCollector(Collector):
    """Open SLAs, breaches, outcomes waiting for release and open LOQs, read at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("casework_backlog_up", "1 when the backlog could be read")
        engine: Engine | None = getattr(self.app.state, "engine", None)
        if engine is None:
            return
        try:
            families = self._read(engine)
        except Exception:  # a scrape must answer while PostgreSQL is down
            log.warning("metrics: could not read the backlog", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self, engine: Engine) -> list[Metric]:
        open_slas = GaugeMetricFamily(
            "casework_slas_open", "SLAs not stopped, by state", labels=["definition", "status"]
        )
        breached = CounterMetricFamily(
            "casework_slas_breached",
            "SLAs that breached their goal, open or stopped",
            labels=["definition"],
        )
        pending = GaugeMetricFamily(
            "casework_outcomes_pending_release",
            "results and certifications waiting to be released",
            labels=["kind", "scheduled"],
        )
        loqs = GaugeMetricFamily("casework_loqs_open", "applications sent back with questions")
        loqs_late = GaugeMetricFamily(
            "casework_loqs_past_deadline", "open LOQs whose deadline has passed (a stuck timer)"
        )
        breaches: dict[str, int] = {}
        with engine.connect() as connection, connection.begin():
            connection.execute(text("SET LOCAL statement_timeout = '2s'"))
            for definition, status, is_open, count in connection.execute(_SLAS):
                if is_open:
                    open_slas.add_metric([definition, status], count)
                if status == "BREACHED":
                    breaches[definition] = breaches.get(definition, 0) + count
            for kind, scheduled, count in connection.execute(_PENDING_RELEASES):
                pending.add_metric([kind, str(scheduled).lower()], count)
            open_count, late_count = connection.execute(_OPEN_LOQS).one()
        for definition, count in sorted(breaches.items()):
            breached.add_metric([definition], count)
        loqs.add_metric([], open_count)
        loqs_late.add_metric([], late_count)
        return [open_slas, breached, pending, loqs, loqs_late]


class WebhookCollector(Collector):
    """Webhook attempts, failures and lag per subscription, read at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        engine: Engine | None = getattr(self.app.state, "engine", None)
        if engine is None:
            return
        labels = ["subscription"]
        attempts = CounterMetricFamily(
            "casework_webhook_attempts", "delivery attempts recorded", labels=labels
        )
        failures = CounterMetricFamily(
            "casework_webhook_failures", "attempts without a 2xx answer", labels=labels
        )
        lag = GaugeMetricFamily(
            "casework_webhook_lag_events", "wanted events not yet delivered", labels=labels
        )
        lag_s = GaugeMetricFamily(
            "casework_webhook_lag_seconds", "age of the oldest undelivered event", labels=labels
        )
        try:
            with engine.connect() as connection, connection.begin():
                connection.execute(text("SET LOCAL statement_timeout = '2s'"))
                rows = connection.execute(_WEBHOOKS).all()
        except Exception:  # the backlog's `up` gauge already says PostgreSQL is down
            log.warning("metrics: could not read the webhooks", exc_info=True)
            return
        for subscription, tried, failed, behind, age_s in rows:
            attempts.add_metric([str(subscription)], tried)
            failures.add_metric([str(subscription)], failed)
            lag.add_metric([str(subscription)], behind)
            lag_s.add_metric([str(subscription)], float(age_s) if behind else 0.0)
        yield from (attempts, failures, lag, lag_s)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The Prometheus text exposition of this replica (no token: scrape it from inside)."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI) -> None:
    """Serve `/metrics` and measure every request (call after the other middleware)."""
    registry = CollectorRegistry()
    registry.register(BacklogCollector(app))
    registry.register(WebhookCollector(app))
    app.state.metrics_registry = registry
    app.add_middleware(MetricsMiddleware, metrics=HttpMetrics(registry))
    app.include_router(router)
