"""Application and assessment statuses, and which actions each status allows."""

from collections.abc import Mapping
from enum import StrEnum

from domain.errors import Conflict, Invalid, field_error
from domain.template import Stage, TemplateDefinition, value_problem


class ApplicationStatus(StrEnum):
    """Where an application stands."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    CHANGES_REQUIRED = "CHANGES_REQUIRED"
    COMPLETED = "COMPLETED"
    WITHDRAWN = "WITHDRAWN"


class ApplicationOutcome(StrEnum):
    """How a completed application ended."""

    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class AssessmentStatus(StrEnum):
    """Where the assessment of an application stands."""

    PRE_ASSESSMENT = "PRE_ASSESSMENT"
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    AWAITING_INFORMATION = "AWAITING_INFORMATION"
    COMPLETED = "COMPLETED"


class ApplicationAction(StrEnum):
    """What an applicant can do to an application."""

    EDIT = "edit"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"


_ALLOWED: Mapping[ApplicationStatus, frozenset[ApplicationAction]] = {
    ApplicationStatus.DRAFT: frozenset(ApplicationAction),
    ApplicationStatus.SUBMITTED: frozenset({ApplicationAction.WITHDRAW}),
    ApplicationStatus.CHANGES_REQUIRED: frozenset(ApplicationAction),
    ApplicationStatus.COMPLETED: frozenset(),
    ApplicationStatus.WITHDRAWN: frozenset(),
}

TERMINAL_STATUSES = frozenset({ApplicationStatus.COMPLETED, ApplicationStatus.WITHDRAWN})


def allowed_actions(status: ApplicationStatus) -> list[str]:
    """The actions open to the applicant in `status`, sorted for stable messages."""
    return sorted(action.value for action in _ALLOWED[status])


def ensure_allowed(action: ApplicationAction, status: ApplicationStatus) -> None:
    """Refuse `action` in `status` with a 409 naming what is allowed."""
    if action not in _ALLOWED[status]:
        allowed = allowed_actions(status)
        raise Conflict(
            f"cannot {action.value} an application that is {status.value}; "
            f"allowed: {', '.join(allowed) or 'nothing'}",
            allowed=allowed,
        )


def check_answer(template: TemplateDefinition, element_code: str, value: object) -> None:
    """Refuse an answer to an unknown element or of the wrong type (422)."""
    element = template.element(element_code)
    if element is None:
        raise Invalid(
            f"the template has no element {element_code!r}",
            errors=[field_error("element_code", "unknown element")],
        )
    # Clearing an answer (None or "") is a draft edit; completeness is judged at submit.
    problem = None if value in (None, "") else value_problem(element, value)
    if problem:
        raise Invalid(f"{element_code}: {problem}", errors=[field_error("value", problem)])


def check_complete(template: TemplateDefinition, answers: Mapping[str, object]) -> None:
    """Refuse a submission whose required answers are missing or invalid (422)."""
    errors = [
        field_error(f"responses.{element.code}", problem)
        for section in template.sections
        for element in section.elements
        if (problem := value_problem(element, answers.get(element.code)))
    ]
    if errors:
        names = ", ".join(error["field"].removeprefix("responses.") for error in errors)
        raise Invalid(f"the application is not complete: {names}", errors=errors)


def first_stage(template: TemplateDefinition) -> Stage:
    """The stage a first submission enters."""
    return template.stages[0]


def assessment_status_for(stage: Stage) -> AssessmentStatus:
    """A fresh assessment's status for the stage the application enters."""
    return AssessmentStatus.PRE_ASSESSMENT if stage.pre_assessment else AssessmentStatus.NOT_STARTED
