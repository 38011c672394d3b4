"""Routes made from one handler per variant (a report, an outcome kind), and read routes
that cost one thread-pool trip."""

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import ResponseValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool


def add_route(
    route: Callable[[Callable[..., Any]], Any],
    handler: Callable[..., Any],
    name: str,
    description: str,
) -> None:
    """Add `handler` with `route` (e.g. `router.get(path)`) as the operation `name`.

    FastAPI names the operation (and its operationId) after the handler and documents it
    with the handler's docstring, so both are set as a handler written out would have them.
    """
    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = description
    route(handler)


class ReadRoute(APIRoute):
    """A GET route whose plain `def` handler, the serialisation of its answer and the close
    of its session run in one thread-pool trip (decision 0099).

    FastAPI runs a sync handler in the thread pool, validates its answer in a second trip,
    serialises it on the event loop, and the session dependency closes the used session in
    a third. Each trip is a thread wake-up and a GIL hand-over, which under load costs more
    than the work. Here the handler is replaced by an `async def` with the same signature
    (so the dependencies, parameters and the OpenAPI document are unchanged) that does all
    three in one trip, with the route's own response field (the same validation and the
    same bytes), and answers with a `Response`, which FastAPI passes through.

    Left as they are: other methods, routes given a `response_class`, `async def` handlers,
    generators, and handlers that take a `Response` parameter (FastAPI would not copy its
    headers onto ours).
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {method.upper() for method in kwargs.get("methods") or ()}
        default_class = isinstance(kwargs.get("response_class"), DefaultPlaceholder | None)
        if methods == {"GET"} and default_class and _plain(endpoint):
            endpoint = self._one_trip(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def _one_trip(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        def work(values: dict[str, Any]) -> Any:
            try:
                answer = handler(**values)
                if isinstance(answer, Response):
                    return answer
                return self._serialised(answer)
            finally:
                for value in values.values():
                    if isinstance(value, Session):
                        value.close()  # the dependency's own close then does no I/O

        async def endpoint(**values: Any) -> Any:
            return await run_in_threadpool(work, values)

        endpoint.__signature__ = inspect.signature(handler, eval_str=True)  # type: ignore[attr-defined]
        for name in ("__name__", "__qualname__", "__doc__", "__module__"):
            setattr(endpoint, name, getattr(handler, name))
        return endpoint

    def _serialised(self, answer: Any) -> Response:
        """What FastAPI does with a handler's answer: validate it against the response
        field, dump it to JSON (its `dump_json` fast path), answer with the route's status."""
        field = self.response_field
        if field is None:  # no response model: FastAPI would jsonable_encoder it
            return JSONResponse(jsonable_encoder(answer), status_code=self.status_code or 200)
        value, errors = field.validate(answer, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors=errors, body=answer)
        body = field.serialize_json(
            value,
            include=self.response_model_include,
            exclude=self.response_model_exclude,
            by_alias=self.response_model_by_alias,
            exclude_unset=self.response_model_exclude_unset,
            exclude_defaults=self.response_model_exclude_defaults,
            exclude_none=self.response_model_exclude_none,
        )
        return Response(body, status_code=self.status_code or 200, media_type="application/json")


def _plain(handler: Callable[..., Any]) -> bool:
    """A plain `def` handler without a `Response` parameter."""
    if not inspect.isfunction(handler) or (
        inspect.iscoroutinefunction(handler)
        or inspect.isgeneratorfunction(handler)
        or inspect.isasyncgenfunction(handler)
    ):
        return False
    parameters = inspect.signature(handler, eval_str=True).parameters.values()
    return not any(
        isinstance(p.annotation, type) and issubclass(p.annotation, Response) for p in parameters
    )
