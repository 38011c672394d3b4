"""The activity signatures workflows call (workflows/payloads/) match what the worker runs."""

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

import activities
import workflows.payloads
from worker import build_worker

HISTORIES = sorted((Path(__file__).parents[1] / "replay" / "histories").glob("*.json"))


def _name(fn: Callable[..., Any]) -> str | None:
    definition = activity._Definition.from_callable(fn)
    return definition.name if definition else None


def _modules(package: Any) -> list[Any]:
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]


def _implementations() -> dict[str, Callable[..., Any]]:
    """Every @activity.defn method of a class in activities/, by activity name."""
    found: dict[str, Callable[..., Any]] = {}
    for module in _modules(activities):
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == module.__name__:
                for fn in vars(cls).values():
                    if inspect.isfunction(fn) and (name := _name(fn)):
                        assert name not in found, f"two implementations of {name}"
                        found[name] = fn
    return found


def _signatures() -> dict[str, Callable[..., Any]]:
    """Every @activity.defn function in workflows/payloads/, by activity name."""
    found: dict[str, Callable[..., Any]] = {}
    for module in _modules(workflows.payloads):
        for fn in vars(module).values():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ and (name := _name(fn)):
                assert name not in found, f"two signatures of {name}"
                found[name] = fn
    return found


IMPLEMENTATIONS = _implementations()
SIGNATURES = _signatures()


def _shape(fn: Callable[..., Any], *, method: bool) -> tuple[list[tuple[str, Any, Any]], Any]:
    """Parameters (name, kind, annotation) without `self`, and the return annotation."""
    signature = inspect.signature(fn, eval_str=True)
    params = list(signature.parameters.values())[1 if method else 0 :]
    return [(p.name, p.kind, p.annotation) for p in params], signature.return_annotation


def test_every_activity_has_a_signature_and_every_signature_an_activity() -> None:
    assert sorted(set(IMPLEMENTATIONS) - set(SIGNATURES)) == []
    assert sorted(set(SIGNATURES) - set(IMPLEMENTATIONS)) == []
    assert len(SIGNATURES) >= 41


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signature_matches_its_activity(name: str) -> None:
    signature, implementation = SIGNATURES[name], IMPLEMENTATIONS[name]

    assert signature.__name__ == implementation.__name__ == name
    assert _shape(signature, method=False) == _shape(implementation, method=True)


def test_every_activity_in_a_saved_history_is_still_there() -> None:
    scheduled = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    in_histories = {
        event.activity_task_scheduled_event_attributes.activity_type.name
        for path in HISTORIES
        for event in WorkflowHistory.from_json(path.stem, path.read_text()).events
        if event.event_type == scheduled
    }

    assert len(in_histories) > 10
    assert sorted(in_histories - set(IMPLEMENTATIONS)) == []


async def test_the_worker_registers_every_activity(
    ts_env: WorkflowEnvironment, engine: Engine
) -> None:
    worker = build_worker(ts_env.client, engine, task_queue="signatures", threads=1)

    registered = [_name(fn) or "" for fn in worker.config()["activities"]]

    assert sorted(registered) == sorted(IMPLEMENTATIONS)
