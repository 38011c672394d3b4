"""What every activity class shares: the engine (and client) it is built with, and one
database transaction per activity call."""

import inspect
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client

from activities.refusal import refusals_fail_fast


class EngineActivities:
    """Activities built with the database engine (the worker builds one instance)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine


class ClientActivities(EngineActivities):
    """Activities that also talk to Temporal (signals, histories)."""

    def __init__(self, engine: Engine, client: Client) -> None:
        super().__init__(engine)
        self.client = client


A = TypeVar("A", bound=EngineActivities)
C = TypeVar("C")
R = TypeVar("R")


def transaction_activity(method: Callable[[A, Session, C], R]) -> Callable[[A, C], R]:
    """`@activity.defn` for `method(self, session, command)`: each call runs in one
    transaction of its own (committed when the method returns, rolled back when it raises),
    and a domain refusal fails at once instead of being retried.

    The activity's name, parameters and result are the method's without `session`, so the
    signature in `workflows/payloads/` and the saved histories see `(command) -> result`.
    """

    @wraps(method)
    def in_transaction(self: A, command: C) -> R:
        with Session(self.engine) as session, session.begin():
            return method(self, session, command)

    signature = inspect.signature(method)
    kept = [param for name, param in signature.parameters.items() if name != "session"]
    in_transaction.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    in_transaction.__annotations__ = {
        name: hint for name, hint in method.__annotations__.items() if name != "session"
    }
    return activity.defn(refusals_fail_fast(in_transaction))
