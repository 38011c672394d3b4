"""OTEL_EXPORTER_OTLP_ENDPOINT: spans reach an OTLP/HTTP collector, named after the process."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from core.settings import Settings
from core.telemetry import otlp_provider, start_tracing, traces_endpoint


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """A collector on a free port: its base URL and the (path, body) of each POST."""
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_no_endpoint_no_tracing() -> None:
    assert start_tracing(Settings(), process="api") is None


def test_the_generic_endpoint_gets_the_traces_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert traces_endpoint("http://collector:4318/") == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/in")
    assert traces_endpoint("http://collector:4318") == "http://traces:4318/in"


def test_spans_are_exported_to_the_collector(
    collector: tuple[str, list[tuple[str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    url, received = collector
    provider = otlp_provider(Settings(otel_exporter_otlp_endpoint=url), process="worker")
    with provider.get_tracer("test").start_as_current_span("RunActivity:record_submission"):
        pass
    provider.force_flush()
    provider.shutdown()

    assert [path for path, _ in received] == ["/v1/traces"]
    request = ExportTraceServiceRequest.FromString(received[0][1])
    [resource_spans] = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == "casework-worker"
    names = [span.name for scope in resource_spans.scope_spans for span in scope.spans]
    assert names == ["RunActivity:record_submission"]
