"""What a workflow shows an operator in the Temporal UI: search attributes and details.

Every workflow publishes its case through one `Console`: its own search attributes, then
who must act next (`WaitingOn`, since when: `WaitingSince`) and the next deadline
(`DueAt`), and the current details (markdown) ending with the same next step.
"""

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from domain.console import NextStep, WaitingOn
from workflows.search_keys import keys

# Runs started before this code show their first search attributes at their first change,
# as they did; new runs show them from their first task (decision 0087).
FIRST_TASK = "console-first-task"


class Console:
    """Publishes one workflow's case; remembers since when it waits on whom."""

    def __init__(self) -> None:
        self._waiting_on: WaitingOn | None = None
        self._since = workflow.now()
        self._due_set = False

    def show(
        self, step: NextStep, attributes: list[SearchAttributeUpdate[Any]], details: str
    ) -> None:
        """Upsert `attributes` and the next step; set the current details."""
        if step.waiting_on != self._waiting_on:
            self._waiting_on, self._since = step.waiting_on, workflow.now()
        updates = [
            *attributes,
            keys.WAITING_ON.value_set(step.waiting_on.value),
            keys.WAITING_SINCE.value_set(self._since),
        ]
        if step.due_at is not None:
            updates.append(keys.DUE_AT.value_set(step.due_at))
        elif self._due_set:  # unset only what this run set (nothing to clear otherwise)
            updates.append(keys.DUE_AT.value_unset())
        self._due_set = step.due_at is not None
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(f"{details}\n\n{next_step_line(step)}")


def next_step_line(step: NextStep) -> str:
    """`waiting on reviewer` / `waiting on applicant · LOQ deadline 2026-12-09 17:00Z`."""
    line = f"waiting on **{step.waiting_on.value}**"
    if step.due_at is not None:
        line += f" · {step.due or 'due'} {step.due_at:%Y-%m-%d %H:%M}Z"
    return line


def first_task() -> bool:
    """True in a run that publishes from its first task (a marker in its history)."""
    return workflow.patched(FIRST_TASK)
