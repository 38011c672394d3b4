"""Activities: the I/O of each workflow step, as methods of classes the worker builds."""

import inspect
from collections.abc import Callable
from typing import Any

from temporalio import activity


def activities_of(*instances: object) -> list[Callable[..., Any]]:
    """Every `@activity.defn` method of `instances`, bound (what the worker registers)."""
    found = []
    for instance in instances:
        methods = [
            getattr(instance, name)
            for name, member in inspect.getmembers(type(instance), inspect.isfunction)
            if activity._Definition.from_callable(member) is not None
        ]
        if not methods:
            raise ValueError(f"{type(instance).__name__} has no @activity.defn method")
        found += methods
    return found
