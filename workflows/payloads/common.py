"""Shared shape of every payload that crosses Temporal, and of every activity's signature."""

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from temporalio import activity

A = TypeVar("A")
R = TypeVar("R")


class Payload(BaseModel):
    """Frozen pydantic model: ids and values, never table objects."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def signature(
    name: str, takes: type[A], returns: type[R], *, param: str = "command"
) -> Callable[[A], Awaitable[R]]:
    """The signature of activity `name` for workflows to call: what it takes and returns.

    The worker runs the method of the same name in activities/ (tests/workflows/
    test_activity_signatures.py keeps the two in step). Saved histories hold these names:
    never rename one. An activity without input keeps its own `@activity.defn` function.
    """

    async def stub(command: Any) -> Any:
        raise NotImplementedError(name)

    stub.__name__ = stub.__qualname__ = name
    caller = inspect.currentframe()
    stub.__module__ = caller.f_back.f_globals["__name__"] if caller and caller.f_back else ""
    result = None if returns is type(None) else returns  # as `-> None` reads
    stub.__annotations__ = {param: takes, "return": result}
    stub.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(param, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=takes)],
        return_annotation=result,
    )
    return activity.defn(name=name)(stub)
