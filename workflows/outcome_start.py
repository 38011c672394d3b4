"""How clients start OutcomeReleaseWorkflow: one definition for the API, tests and benches."""

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from core import temporal as keys
from domain.outcome import OutcomeKind
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.payloads.outcome import OutcomeSnapshot, StartOutcomeReleaseInput


def workflow_id(kind: OutcomeKind | str, outcome_id: str) -> str:
    """The business key of an outcome's workflow: `result-{id}` or `certification-{id}`."""
    return f"{OutcomeKind(kind).value}-{outcome_id}"


def batch_workflow_id(batch_id: str) -> str:
    """The business key of a bulk release."""
    return f"outcome-release-batch-{batch_id}"


def start_operation(
    start: StartOutcomeReleaseInput, *, task_queue: str
) -> WithStartWorkflowOperation[OutcomeReleaseWorkflow, OutcomeSnapshot]:
    """Start the outcome's workflow with its submission; an outcome is never started twice."""
    return WithStartWorkflowOperation(
        OutcomeReleaseWorkflow.run,
        start,
        id=workflow_id(start.kind, start.outcome_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=search_attributes(start),
        static_summary=summary(start),
    )


def search_attributes(
    start: StartOutcomeReleaseInput, status: str = "SUBMITTED"
) -> TypedSearchAttributes:
    """What an operator finds the workflow by before its first state is published."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(keys.CASE_KIND, start.kind.value),
            SearchAttributePair(keys.CASE_STATUS, [status]),
            SearchAttributePair(keys.CANDIDATE_ID, start.candidate_id),
            SearchAttributePair(keys.PROVIDER_ID, start.provider_id),
        ]
    )


def summary(start: StartOutcomeReleaseInput) -> str:
    """The workflow's static summary in the Temporal UI."""
    return (
        f"{start.kind.value.title()} {start.outcome_id} · candidate {start.candidate_id} · "
        f"provider {start.provider_id}"
    )
