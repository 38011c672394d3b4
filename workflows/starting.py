"""How clients start a case's workflow together with its first update (API, tests, benches)."""

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from core import temporal as keys
from workflows.typevars import A, R

W = TypeVar("W")


class Starter(Generic[W, A, R]):
    """Starts (or joins) a case's workflow with its first update; a completed case is never
    started again. Called as `start_operation(start, task_queue=...)`; the callables give
    the workflow id, the search attributes, the static summary and details of a start."""

    def __init__(
        self,
        run: Callable[[W, A], Awaitable[R]],
        workflow_id: Callable[[A], str],
        attributes: Callable[[A], TypedSearchAttributes],
        summary: Callable[[A], str],
        details: Callable[[A], str],
    ) -> None:
        self._run = run
        self._workflow_id = workflow_id
        self._attributes = attributes
        self._summary = summary
        self._details = details

    def __call__(self, start: A, *, task_queue: str) -> WithStartWorkflowOperation[W, R]:
        return WithStartWorkflowOperation(
            self._run,
            start,
            id=self._workflow_id(start),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=self._attributes(start),
            static_summary=self._summary(start),
            static_details=self._details(start),
        )


def case_attributes(
    kind: str, status: str, *ids: SearchAttributePair[Any]
) -> TypedSearchAttributes:
    """What an operator finds a case's workflow by before its first state is published."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(keys.CASE_KIND, kind),
        SearchAttributePair(keys.CASE_STATUS, [status]),
    ]
    return TypedSearchAttributes([*pairs, *ids])


def case_details(title: str, api_path: str, facts: dict[str, str]) -> str:
    """A case's static details (markdown): what it is, its ids, where to read it."""
    lines = [f"**{title}**", ""]
    lines += [f"- {name}: `{value}`" for name, value in facts.items()]
    lines += [
        f"- API: `GET {api_path}`",
        '- runbook: docs/operations.md, "The Temporal UI as the console"',
    ]
    return "\n".join(lines)
