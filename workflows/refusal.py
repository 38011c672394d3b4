"""Refusals as Temporal failures: how a domain 'no' crosses to the API."""

from temporalio.exceptions import ActivityError, ApplicationError

from domain.errors import REFUSALS, Refusal


def as_failure(refusal: Refusal) -> ApplicationError:
    """A non-retryable failure the API maps back to the refusal's HTTP status."""
    return ApplicationError(
        refusal.detail,
        {"allowed": refusal.allowed, "errors": refusal.errors},
        type=refusal.kind,
        non_retryable=True,
    )


def unwrap(error: ActivityError) -> BaseException:
    """The activity's own failure (so the update fails with it, not a wrapper)."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
        return ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True)
    return error
