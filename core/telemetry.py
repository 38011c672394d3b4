"""Traces (OpenTelemetry) and the Temporal SDK's metrics (Prometheus): both off by default.

`OTEL_EXPORTER_OTLP_ENDPOINT` turns tracing on: spans of the HTTP routes (FastAPI), the
Temporal client and worker (`temporalio.contrib.opentelemetry`: start, update, workflow,
activity) and SQL (SQLAlchemy) join one trace and are exported over OTLP/HTTP; the other
`OTEL_*` variables (headers, protocol timeouts, resource attributes) are the SDK's own.
`WORKER_METRICS_PORT` makes the worker's Temporal runtime serve Prometheus metrics.
"""

import os
from collections.abc import Sequence

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy import Engine
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core.settings import Settings

UNTRACED_PATHS = "/healthz,/readyz,/metrics"  # probes and scrapes: noise, not requests
_started: dict[str, TracerProvider] = {}


def start_tracing(settings: Settings, *, process: str) -> TracerProvider | None:
    """The process's tracer provider, exporting over OTLP; None while no endpoint is set."""
    if not settings.otel_exporter_otlp_endpoint:
        return None
    if "provider" not in _started:  # the global provider can be set once per process
        _started["provider"] = otlp_provider(settings, process=process)
        trace.set_tracer_provider(_started["provider"])
    return _started["provider"]


def otlp_provider(settings: Settings, *, process: str) -> TracerProvider:
    """A tracer provider batching its spans to the OTLP/HTTP collector of `settings`."""
    service = settings.otel_service_name or f"casework-{process}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    endpoint = traces_endpoint(settings.otel_exporter_otlp_endpoint or "")
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def traces_endpoint(base: str) -> str:
    """Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else `<base>/v1/traces`
    (the OTLP/HTTP rule for the generic endpoint)."""
    return os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or f"{base.rstrip('/')}/v1/traces"


def temporal_tracing(provider: TracerProvider | None) -> Sequence[Interceptor]:
    """Client interceptors (the worker takes them from its client) that carry the trace."""
    if provider is None:
        return ()
    return (TracingInterceptor(provider.get_tracer("casework.temporal")),)


def trace_app(app: FastAPI, provider: TracerProvider) -> None:
    """A server span per request, the parent of whatever the route does."""
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=UNTRACED_PATHS)


def trace_engines(provider: TracerProvider, *engines: Engine) -> None:
    """A span per SQL statement on `engines` (once per process: later calls do nothing)."""
    # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses unchanged;
    # tests/api/test_tracing.py proves the SQL spans still come.
    SQLAlchemyInstrumentor().instrument(
        engines=list(engines), tracer_provider=provider, skip_dep_check=True
    )


def untrace_engines() -> None:
    """Remove the SQL spans (tests that traced an engine of their own)."""
    SQLAlchemyInstrumentor().uninstrument()


def sdk_metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime serving the SDK's Prometheus metrics on WORKER_METRICS_PORT."""
    if settings.worker_metrics_port is None:
        return None
    address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    # The SDK's own names and units (histograms in ms), as Temporal's SDK dashboards expect.
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
