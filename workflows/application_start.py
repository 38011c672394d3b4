"""How clients start ApplicationReviewWorkflow: one definition for the API, tests and benches."""

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from core import temporal as keys
from workflows.application import ApplicationReviewWorkflow
from workflows.payloads.application import StartApplicationReviewInput
from workflows.starting import Starter, case_attributes, case_details


def workflow_id(application_id: str) -> str:
    """The business key of an application's workflow."""
    return f"application-{application_id}"


def submit_update_id(submission: int, answers_digest: str = "") -> str:
    """One update id per (submission number, answers): a double click is answered once,
    while a retry after a refusal with changed answers is a new update."""
    return f"submit-{submission}-{answers_digest}" if answers_digest else f"submit-{submission}"


def search_attributes(
    start: StartApplicationReviewInput, status: str = "SUBMITTING"
) -> TypedSearchAttributes:
    """What an operator finds the workflow by before its first state is published."""
    template = SearchAttributePair(keys.TEMPLATE_CODE, start.template_code)
    applicant = SearchAttributePair(keys.APPLICANT_ID, start.applicant_id)
    return case_attributes("application", status, template, applicant)


def summary(start: StartApplicationReviewInput) -> str:
    """The workflow's static summary in the Temporal UI."""
    return (
        f"Application {start.application_id} · template {start.template_code} "
        f"v{start.template_version} · applicant {start.applicant_id}"
    )


def _workflow_id(start: StartApplicationReviewInput) -> str:
    return workflow_id(start.application_id)


def details(start: StartApplicationReviewInput) -> str:
    """The workflow's static details in the Temporal UI."""
    facts = {
        "application": start.application_id,
        "template": f"{start.template_code} v{start.template_version}",
        "applicant": start.applicant_id,
    }
    path = f"/v1/applications/{start.application_id}"
    return case_details("Review of one application", path, facts)


start_operation = Starter(
    ApplicationReviewWorkflow.run, _workflow_id, search_attributes, summary, details
)
