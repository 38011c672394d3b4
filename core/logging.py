"""Logs for every process: JSON lines (or text) carrying request, workflow and activity ids.

`configure_logging` is called once per process (API, worker, CLI). A filter on its handler
stamps each record with `request_id` (set by the API boundary), `workflow_id`, `run_id` and
`activity` (read from the Temporal activity context or from `workflow.logger`'s extra), and
`trace_id` when a span is recording, so one search finds every line of a case.
"""

import logging
import sys
from contextvars import ContextVar
from typing import IO, Any

from opentelemetry import trace
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from temporalio import activity, workflow

from core.settings import Settings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

CONTEXT_FIELDS = ("request_id", "workflow_id", "run_id", "activity", "trace_id")
# Flattened by the filter, or only for a terminal (uvicorn's coloured copy of its message).
_LIFTED = ("context", "temporal_workflow", "temporal_activity", "color_message")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s"


class ContextFilter(logging.Filter):
    """Adds the ids of the request, workflow run and activity the record was logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        found = _context_of(record)
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name) and found.get(name):
                setattr(record, name, found[name])
        record.context = "".join(
            f" {name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name)
        )
        return True


def _context_of(record: logging.LogRecord) -> dict[str, str | None]:
    found: dict[str, str | None] = {"request_id": request_id_var.get()}
    if activity.in_activity():
        info = activity.info()
        found |= {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "activity": info.activity_type,
        }
    details: Any = getattr(record, "temporal_workflow", None)  # set by workflow.logger
    if isinstance(details, dict):
        found |= {"workflow_id": details.get("workflow_id"), "run_id": details.get("run_id")}
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        found["trace_id"] = trace.format_trace_id(span.trace_id)
    return found


class _CaseworkHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler `configure_logging` installs (replaced, never doubled, on a re-run)."""


def configure_logging(
    settings: Settings, *, process: str, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record to `stream` (stderr) as `LOG_FORMAT` says; return the handler."""
    handler = _CaseworkHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s",
                timestamp="time",  # ISO 8601 in UTC
                rename_fields={"levelname": "level", "name": "logger"},
                static_fields={"service": f"casework-{process}"},
                reserved_attrs=[*RESERVED_ATTRS, *_LIFTED],
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    # The ids are fields of their own now, so the SDK's loggers stop appending them to text.
    activity.logger.activity_info_on_message = False
    workflow.logger.workflow_info_on_message = False
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CaseworkHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # uvicorn's own loggers go through this handler; its access log is replaced by the
    # API boundary's one line per request (which knows the route and the request id).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    return handler
