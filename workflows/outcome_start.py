"""How clients start OutcomeReleaseWorkflow: one definition for the API, tests and benches."""

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from core import temporal as keys
from domain.outcome import OutcomeKind
from workflows.outcome import OutcomeReleaseWorkflow
from workflows.payloads.outcome import StartOutcomeReleaseInput
from workflows.starting import Starter, case_attributes, case_details


def workflow_id(kind: OutcomeKind | str, outcome_id: str) -> str:
    """The business key of an outcome's workflow: `result-{id}` or `certification-{id}`."""
    return f"{OutcomeKind(kind).value}-{outcome_id}"


def batch_workflow_id(batch_id: str) -> str:
    """The business key of a bulk release."""
    return f"outcome-release-batch-{batch_id}"


def search_attributes(
    start: StartOutcomeReleaseInput, status: str = "SUBMITTED"
) -> TypedSearchAttributes:
    """What an operator finds the workflow by before its first state is published."""
    candidate = SearchAttributePair(keys.CANDIDATE_ID, start.candidate_id)
    provider = SearchAttributePair(keys.PROVIDER_ID, start.provider_id)
    return case_attributes(start.kind.value, status, candidate, provider)


def summary(start: StartOutcomeReleaseInput) -> str:
    """The workflow's static summary in the Temporal UI."""
    return (
        f"{start.kind.value.title()} {start.outcome_id} · candidate {start.candidate_id} · "
        f"provider {start.provider_id}"
    )


def _workflow_id(start: StartOutcomeReleaseInput) -> str:
    return workflow_id(start.kind, start.outcome_id)


def details(start: StartOutcomeReleaseInput) -> str:
    """The workflow's static details in the Temporal UI."""
    facts = {
        start.kind.value: start.outcome_id,
        "candidate": start.candidate_id,
        "provider": start.provider_id,
        "grade at start": start.grade.value,
    }
    path = f"/v1/{start.kind.value}s/{start.outcome_id}"
    return case_details(f"One {start.kind.value}, submitted to released", path, facts)


start_operation = Starter(
    OutcomeReleaseWorkflow.run, _workflow_id, search_attributes, summary, details
)
