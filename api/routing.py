"""Routes made from one handler per variant (a report, an outcome kind)."""

from collections.abc import Callable
from typing import Any


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
