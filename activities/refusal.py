"""Turn a domain refusal inside an activity into a non-retryable failure."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from domain.errors import Refusal
from workflows.refusal import as_failure

P = ParamSpec("P")
R = TypeVar("R")


def refusals_fail_fast(fn: Callable[P, R]) -> Callable[P, R]:
    """A broken data rule is final: retrying would only refuse again."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Refusal as refusal:
            raise as_failure(refusal) from None

    return wrapper
