"""RFC 9457 problem JSON for every error the API returns."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.logging import request_id_var
from core.temporal import unreachable
from domain.errors import REFUSALS, Conflict, Refusal

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    allowed: list[str] | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem response: type, title, status, detail, and optional allowed/errors."""
    title = _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": f"/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if allowed is not None:
        body["allowed"] = allowed
    if errors:
        body["errors"] = errors
    if request_id := request_id_var.get():
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


RETRY_LATER = {"Retry-After": "2"}


def refusal_from_update(error: WorkflowUpdateFailedError) -> Refusal:
    """The refusal a workflow update (validator or activity) failed with."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
        details = cause.details[0] if cause.details else {}
        extra = details if isinstance(details, dict) else {}
        return REFUSALS[cause.type](
            cause.message, allowed=extra.get("allowed"), errors=extra.get("errors")
        )
    message = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
    return Conflict(f"the workflow refused the change: {message}")


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body",)]
    return ".".join(parts) or "body"


async def _on_refusal(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    return problem(exc.status, exc.detail, allowed=exc.allowed, errors=exc.errors)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, not JSON)
        errors = [{"field": "body", "message": str(exc.detail)}]
        return problem(422, "the request body could not be read", errors=errors)
    return problem(exc.status_code, str(exc.detail), headers=headers)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(tuple(err.get("loc", ()))), "message": str(err.get("msg", ""))}
        for err in exc.errors()
    ]
    names = ", ".join(sorted({error["field"] for error in errors}))
    return problem(422, f"the request is not valid: {names}", errors=errors)


async def _on_update_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WorkflowUpdateFailedError)
    refusal = refusal_from_update(exc)
    return problem(refusal.status, refusal.detail, allowed=refusal.allowed, errors=refusal.errors)


async def _on_rpc(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    if exc.status == RPCStatusCode.NOT_FOUND:
        # The case's workflow has finished (completed, withdrawn) or never started.
        return problem(409, f"this case is not open for that: {exc.message}", allowed=[])
    if unreachable(exc):
        return problem(503, f"Temporal did not answer: {exc.message}", headers=RETRY_LATER)
    raise exc  # anything else is unexpected: the boundary answers 500 and logs it


def install(app: FastAPI) -> None:
    """Register every handler on `app`."""
    app.add_exception_handler(Refusal, _on_refusal)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(WorkflowUpdateFailedError, _on_update_failed)
    app.add_exception_handler(RPCError, _on_rpc)
