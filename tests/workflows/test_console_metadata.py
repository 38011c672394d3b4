"""What the Temporal UI shows of each workflow: handler descriptions, step summaries."""

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from worker import WORKFLOWS

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "operations.md").read_text()
# Histories recorded since activities and timers carry summaries (decision 0087).
WITH_SUMMARIES = ["sla_console_first_task", "outcome_batch_console_first_task"]


def _handlers(cls: type) -> dict[str, str | None]:
    definition = workflow._Definition.from_class(cls)
    assert definition is not None
    found: dict[str, str | None] = {}
    for kind, handlers in (
        ("update", definition.updates),
        ("signal", definition.signals),
        ("query", definition.queries),
    ):
        for name, handler in handlers.items():
            if name is not None:
                found[f"{kind} {name}"] = handler.description
    return found


@pytest.mark.parametrize("cls", WORKFLOWS, ids=[w.__name__ for w in WORKFLOWS])
def test_every_update_signal_and_query_says_what_it_does(cls: type) -> None:
    handlers = _handlers(cls)

    assert handlers
    assert [name for name, description in handlers.items() if not description] == []


@pytest.mark.parametrize("cls", WORKFLOWS, ids=[w.__name__ for w in WORKFLOWS])
def test_the_runbook_names_every_update_and_signal(cls: type) -> None:
    sent = [name.split()[1] for name in _handlers(cls) if not name.startswith("query")]

    assert [name for name in sent if f"`{name}`" not in RUNBOOK] == []


@pytest.mark.parametrize("stem", WITH_SUMMARIES)
def test_every_activity_and_timer_has_a_summary(stem: str) -> None:
    path = ROOT / "tests" / "replay" / "histories" / f"{stem}.json"
    history = WorkflowHistory.from_json(stem, path.read_text())
    steps = (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_TIMER_STARTED)
    converter = DataConverter.default.payload_converter

    summaries = [
        converter.from_payloads([event.user_metadata.summary])[0]
        if event.user_metadata.HasField("summary")
        else None
        for event in history.events
        if event.event_type in steps
    ]

    assert len(summaries) > 2
    assert None not in summaries
    assert "scheduled release" in summaries or "SLA warning at 50%" in summaries
