"""The one request pipeline: a request id, then the token, then idempotency, then the route.

Every answer carries `X-Request-ID`. The token is verified here, before the body is read or
an `Idempotency-Key` is looked at. Whatever escapes the route becomes problem JSON: a 503
with `Retry-After` when PostgreSQL or Temporal cannot be reached, else a 500 naming the
request id (the traceback goes to the log). The error is answered, not re-raised, so the
server keeps the connection open for the client's next request.
"""

import logging
import re
import time
import uuid

import psycopg
from sqlalchemy import exc as sa_exc
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import RPCTimeoutOrCancelledError

from api import idempotency
from api.errors import RETRY_LATER, problem
from api.metrics import route_template
from core.auth import InvalidToken, KeysUnavailable, TokenReader
from core.logging import request_id_var
from core.temporal import unreachable

log = logging.getLogger("casework.api")

REQUEST_ID = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json", "/metrics"})
PUBLIC_PREFIXES = ("/docs", "/redoc")


def is_public(path: str) -> bool:
    """Health, readiness, metrics and the docs need no token."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def request_id_of(headers: Headers) -> str:
    """The caller's `X-Request-ID` when it is a sane token, else a fresh one."""
    given = headers.get(REQUEST_ID, "")
    return given if _VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class BoundaryMiddleware:
    """Request id, catch-all, token, idempotency: in that order, for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope))
        token = request_id_var.set(request_id)
        started = False
        status = 500
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                MutableHeaders(scope=message)[REQUEST_ID] = request_id
            await send(message)

        try:
            await self._verified(scope, receive, send_with_id)
        except Exception as error:
            if started:
                log.exception("request %s failed after its answer began", request_id)
                raise
            await _answer_error(error, request_id, scope, receive, send_with_id)
        finally:
            _log_request(scope, status, time.perf_counter() - began)
            request_id_var.reset(token)

    async def _verified(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        read_token: TokenReader = scope["app"].state.read_token
        try:
            principal = await read_token(_bearer_token(Headers(scope=scope)))
        except InvalidToken as invalid:
            response = problem(401, str(invalid), headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        except KeysUnavailable as down:
            log.warning("request %s: %s", request_id_var.get(), down)
            response = problem(
                503, "the identity provider's keys could not be fetched", headers=RETRY_LATER
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await idempotency.guard(self.app, principal.sub, scope, receive, send)


def _log_request(scope: Scope, status: int, elapsed_s: float) -> None:
    """The access log: one line per request, with its route template and request id."""
    route = route_template(scope)
    quiet = route in PUBLIC_PATHS and route != "/openapi.json"  # probes and scrapes
    log.log(
        logging.DEBUG if quiet and status < 500 else logging.INFO,
        "%s %s %s",
        scope["method"],
        route,
        status,
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(elapsed_s * 1000, 1),
        },
    )


def _bearer_token(headers: Headers) -> str:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("a bearer token is required")
    return token.strip()


async def _answer_error(
    error: Exception, request_id: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if unavailable := _dependency_down(error):
        log.warning("request %s: %s is unavailable: %s", request_id, unavailable, error)
        response = problem(
            503,
            f"{unavailable} is not answering; retry shortly",
            headers=RETRY_LATER,
        )
    else:
        log.exception("request %s failed", request_id, exc_info=error)
        response = problem(500, f"an unexpected error; quote request id {request_id}")
    await response(scope, receive, send)


def _dependency_down(error: BaseException) -> str | None:
    """'PostgreSQL' or 'Temporal' when `error` (or what caused it) says one cannot be reached."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return None
        if down := _unreachable(seen):
            return down
        seen = seen.__cause__ or seen.__context__
    return None


def _unreachable(error: BaseException) -> str | None:
    if isinstance(error, sa_exc.OperationalError | sa_exc.TimeoutError | psycopg.OperationalError):
        return "PostgreSQL"
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return "PostgreSQL"
    if unreachable(error):
        return "Temporal"
    if isinstance(error, RPCTimeoutOrCancelledError):  # an update's answer took too long:
        return "Temporal"  # it may still happen; a keyed retry gets its outcome
    return None
