"""Refusals as Temporal failures: how a domain 'no' crosses to the API."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from domain.errors import REFUSALS, Refusal
from workflows.typevars import A, R

# How every recording activity is called: a refusal is final, anything else is retried.
# With `local=True` (the application review, decision 0090), since patch
# `recording-local-activities` each runs as a local activity: one
# short transaction, done inside the workflow task that asked for it (no activity task
# round trip through the server). A worker that dies mid-way lets the workflow task time
# out and the activity runs again; every recording activity is idempotent, so that is safe.
LOCAL_RECORDING_PATCH = "recording-local-activities"
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
    activity: Callable[[A], Awaitable[R]],
    arg: A,
    summary: str | None = None,
    *,
    local: bool = False,
) -> R:
    """Run one recording activity, retried the house way; a refusal fails as itself.
    `summary` names the step in the Temporal UI (default: the activity's name in words);
    `local`: as a local activity (once the workflow has the patch)."""
    local = local and workflow.patched(LOCAL_RECORDING_PATCH)
    execute = workflow.execute_local_activity if local else workflow.execute_activity
    try:
        return await execute(
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
