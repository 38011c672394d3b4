"""How clients start ApplicationReviewWorkflow: one definition for the API, tests and benches."""

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from core import temporal as keys
from workflows.application import ApplicationReviewWorkflow
from workflows.payloads.application import StartApplicationReviewInput
from workflows.payloads.review import CaseSnapshot


def workflow_id(application_id: str) -> str:
    """The business key of an application's workflow."""
    return f"application-{application_id}"


def submit_update_id(submission: int, answers_digest: str = "") -> str:
    """One update id per (submission number, answers): a double click is answered once,
    while a retry after a refusal with changed answers is a new update."""
    return f"submit-{submission}-{answers_digest}" if answers_digest else f"submit-{submission}"


def start_operation(
    start: StartApplicationReviewInput, *, task_queue: str
) -> WithStartWorkflowOperation[ApplicationReviewWorkflow, CaseSnapshot]:
    """Start (or join) the workflow; a completed application is never started again."""
    return WithStartWorkflowOperation(
        ApplicationReviewWorkflow.run,
        start,
        id=workflow_id(start.application_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=search_attributes(start),
        static_summary=summary(start),
    )


def search_attributes(
    start: StartApplicationReviewInput, status: str = "SUBMITTING"
) -> TypedSearchAttributes:
    """What an operator finds the workflow by before its first state is published."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(keys.CASE_KIND, "application"),
            SearchAttributePair(keys.CASE_STATUS, [status]),
            SearchAttributePair(keys.TEMPLATE_CODE, start.template_code),
            SearchAttributePair(keys.APPLICANT_ID, start.applicant_id),
        ]
    )


def summary(start: StartApplicationReviewInput) -> str:
    """The workflow's static summary in the Temporal UI."""
    return (
        f"Application {start.application_id} · template {start.template_code} "
        f"v{start.template_version} · applicant {start.applicant_id}"
    )
