"""Refusals as Temporal failures: how a domain 'no' crosses to the API."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.errors import REFUSALS, Refusal
from workflows.typevars import A, R

# How every recording activity is called: a refusal is final, anything else is retried.
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    maximum_interval=timedelta(seconds=10), non_retryable_error_types=sorted(REFUSALS)
)


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


async def run_recording(
    activity: Callable[[A], Awaitable[R]], arg: A, summary: str | None = None
) -> R:
    """Run one recording activity, retried the house way; a refusal fails as itself.
    `summary` names the step in the Temporal UI (default: the activity's name in words)."""
    try:
        return await workflow.execute_activity(
            activity,
            arg,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary=summary or in_words(activity),
        )
    except ActivityError as error:
        raise unwrap(error) from None


def in_words(activity: Callable[..., object]) -> str:
    """An activity's name as an activity summary: `record_loq_expiry` → `record loq expiry`."""
    return getattr(activity, "__name__", "activity").replace("_", " ")
