"""Outcome release rules: the release path, legal transitions, and who sees which grade."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.access import Principal, Role
from domain.errors import Conflict, Invalid, field_error


class OutcomeKind(StrEnum):
    """An outcome is a result (one element's grade) or a certification (the candidate's)."""

    RESULT = "result"
    CERTIFICATION = "certification"


class Grade(StrEnum):
    """Grades an assessor may give; `FAIL` needs a resit, `VOID` is released at once."""

    PASS = "PASS"
    MERIT = "MERIT"
    DISTINCTION = "DISTINCTION"
    FAIL = "FAIL"
    VOID = "VOID"


class OutcomeStatus(StrEnum):
    """Where an outcome stands (internal vocabulary; external users see `PENDING_QA`)."""

    SUBMITTED = "SUBMITTED"
    IN_QA = "IN_QA"
    AMENDMENT_REQUIRED = "AMENDMENT_REQUIRED"
    PENDING_RELEASE = "PENDING_RELEASE"
    RELEASED = "RELEASED"


EXTERNAL_PENDING = "PENDING_QA"


class ReleaseMethod(StrEnum):
    """How an outcome reached external users (recorded once, with the release)."""

    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"
    SCHEDULED = "SCHEDULED"
    WITH_QA = "WITH_QA"
    VOID = "VOID"
    LEGACY = "LEGACY"


class ReleaseMode(StrEnum):
    """A release request: at once, or at a future instant."""

    NOW = "now"
    SCHEDULED = "scheduled"


class BatchStatus(StrEnum):
    """Where a release batch stands."""

    QUEUED = "QUEUED"
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


# Statuses after which a batch changes no more.
BATCH_ENDED = frozenset({BatchStatus.COMPLETED, BatchStatus.CANCELLED})


class BatchItemState(StrEnum):
    """What became of one outcome of a batch."""

    PENDING = "PENDING"
    SCHEDULED = "SCHEDULED"
    RELEASED = "RELEASED"
    SKIPPED = "SKIPPED"


class CandidateStatus(StrEnum):
    """A candidate's (apprentice's) journey; only the first three are active."""

    IN_ASSESSMENT = "IN_ASSESSMENT"
    COMPLETED = "COMPLETED"
    CERTIFIED = "CERTIFIED"
    ON_PROGRAMME = "ON_PROGRAMME"
    BACK_INTO_LEARNING = "BACK_INTO_LEARNING"
    RETAKE_REVIEW = "RETAKE_REVIEW"
    WITHDRAWN = "WITHDRAWN"


ACTIVE_CANDIDATE_STATUSES = frozenset(
    {CandidateStatus.IN_ASSESSMENT, CandidateStatus.COMPLETED, CandidateStatus.CERTIFIED}
)

# The largest request answered outcome by outcome, and the largest batch.
MAX_DIRECT_RELEASE = 100
MAX_BATCH_RELEASE = 10_000


def is_active(status: CandidateStatus) -> bool:
    """True for statuses whose pending outcomes are listed and whose actions stay open."""
    return status in ACTIVE_CANDIDATE_STATUSES


@dataclass(frozen=True)
class Step:
    """Where an outcome goes next, and the release method when it is released at once."""

    status: OutcomeStatus
    method: ReleaseMethod | None = None


def on_submission(*, grade: Grade, sampled_for_qa: bool, auto_release: bool) -> Step:
    """A result is submitted (or a certification saved, or an amendment made)."""
    if grade == Grade.VOID:
        return Step(OutcomeStatus.RELEASED, ReleaseMethod.VOID)
    if sampled_for_qa:
        return Step(OutcomeStatus.IN_QA)
    return on_completion(auto_release=auto_release, release_with_qa=False)


def on_completion(*, auto_release: bool, release_with_qa: bool) -> Step:
    """The outcome is complete (QA passed, or not sampled): release at once or wait."""
    if auto_release:
        return Step(OutcomeStatus.RELEASED, ReleaseMethod.AUTOMATIC)
    if release_with_qa:
        return Step(OutcomeStatus.RELEASED, ReleaseMethod.WITH_QA)
    return Step(OutcomeStatus.PENDING_RELEASE)


def on_qa_signoff(*, passed: bool, release_with_qa: bool, auto_release: bool) -> Step:
    """QA signs the outcome off: a failure goes back for amendment; a pass completes it."""
    if release_with_qa and auto_release:
        raise Conflict(
            "release with QA is offered only when the provider does not auto-release; "
            "this outcome is released automatically when QA passes",
            allowed=["qa"],
        )
    if not passed:
        if release_with_qa:
            raise Invalid(
                "a failed QA cannot release the outcome",
                errors=[field_error("release_with_qa", "only with passed: true")],
            )
        return Step(OutcomeStatus.AMENDMENT_REQUIRED)
    return on_completion(auto_release=auto_release, release_with_qa=release_with_qa)


def check_release_with_qa_roles(who: Principal, *, release_with_qa: bool) -> None:
    """Only a user who may both QA and release may release with QA."""
    if release_with_qa and not (Role.QA in who.roles and Role.RELEASER in who.roles):
        raise Invalid(
            "release with QA needs both the qa and the releaser role",
            errors=[field_error("release_with_qa", "needs the qa and releaser roles")],
        )


# What each status allows (the workflow's validators and the activities ask the same table).
ALLOWED: dict[OutcomeStatus, tuple[str, ...]] = {
    OutcomeStatus.SUBMITTED: (),
    OutcomeStatus.IN_QA: ("qa",),
    OutcomeStatus.AMENDMENT_REQUIRED: ("amend",),
    OutcomeStatus.PENDING_RELEASE: ("release_now", "schedule_release"),
    OutcomeStatus.RELEASED: (),
}


def ensure_allowed(action: str, status: OutcomeStatus) -> None:
    """Refuse (409) an action the outcome's status does not allow, naming what it allows."""
    allowed = ALLOWED[status]
    if action not in allowed:
        raise Conflict(
            f"the outcome is {status.value}: {action} is not allowed"
            + (f"; allowed: {', '.join(allowed)}" if allowed else ""),
            allowed=list(allowed),
        )


def cancel_refusal(status: OutcomeStatus, *, own_schedule: bool, scheduled: bool) -> str | None:
    """Why an operator's cancel of the outcome's workflow changes nothing, or None: it drops
    the outcome's own scheduled release (the outcome stays pending release)."""
    if status == OutcomeStatus.PENDING_RELEASE and own_schedule:
        return None
    if status == OutcomeStatus.RELEASED:
        return "the outcome is released; a release cannot be undone"
    if status == OutcomeStatus.PENDING_RELEASE and scheduled:
        return "a release batch holds the schedule; cancel the batch to drop it"
    return (
        f"the outcome is {status.value} with no scheduled release to drop; "
        "an outcome is never withdrawn, only released"
    )


def check_release_at(*, mode: ReleaseMode, release_at: datetime | None, now: datetime) -> None:
    """`scheduled` needs a future, zoned instant; `now` takes none."""
    if mode == ReleaseMode.NOW:
        if release_at is not None:
            raise Invalid(
                "release_at is only for mode scheduled",
                errors=[field_error("release_at", "omit it with mode now")],
            )
        return
    if release_at is None:
        raise Invalid(
            "a scheduled release needs release_at",
            errors=[field_error("release_at", "required with mode scheduled")],
        )
    if release_at.tzinfo is None:
        raise Invalid(
            "release_at needs a time zone",
            errors=[field_error("release_at", "give an offset, e.g. Z")],
        )
    ensure_future_release(release_at, now)


def ensure_future_release(release_at: datetime, now: datetime) -> None:
    """A release is scheduled only for an instant still to come (422 otherwise)."""
    if release_at <= now:
        raise Invalid(
            "release_at is in the past; schedule a future instant or release now",
            errors=[field_error("release_at", "must be in the future")],
        )


class Audience(StrEnum):
    """How much of an outcome a caller sees."""

    INTERNAL = "internal"  # staff, awarding organisation: the grade from submission
    EXTERNAL = "external"  # candidate, provider, employer: the grade once released
    NONE = "none"


# Which candidate field an external role's `org` must match.
EXTERNAL_SCOPE: dict[Role, str] = {
    Role.CANDIDATE: "candidate_id",
    Role.PROVIDER: "provider_id",
    Role.EMPLOYER: "employer_id",
}


def audience(who: Principal) -> Audience:
    """Internal roles see grades from submission; candidate/provider/employer see their org's."""
    if who.is_internal:
        return Audience.INTERNAL
    if who.org is not None and any(role in EXTERNAL_SCOPE for role in who.roles):
        return Audience.EXTERNAL
    return Audience.NONE


def can_read_outcome_records(who: Principal) -> bool:
    """Outcome records (results, certifications, candidates, providers, elements) are read
    by internal roles and by candidate, provider and employer users of an organisation.

    Anyone else is refused (403) before any lookup, whatever the id: a caller who may read
    some records gets 404 for one that is absent or not theirs, so neither answer tells
    whether a record exists (decision 0071)."""
    return audience(who) != Audience.NONE


def external_scopes(who: Principal) -> dict[str, str]:
    """Candidate fields an external caller's org may match ({} for internal or no org)."""
    if who.org is None or who.is_internal:
        return {}
    return {EXTERNAL_SCOPE[role]: who.org for role in who.roles if role in EXTERNAL_SCOPE}


def may_see(
    who: Principal, *, candidate_id: str, provider_id: str, employer_id: str | None
) -> bool:
    """True when the outcome's candidate is visible to the caller (404 otherwise)."""
    if audience(who) == Audience.INTERNAL:
        return True
    values = {"candidate_id": candidate_id, "provider_id": provider_id, "employer_id": employer_id}
    return any(values[name] == org for name, org in external_scopes(who).items())


def grade_visible(who: Principal, status: OutcomeStatus) -> bool:
    """Internal users see every submitted grade; external users only released ones."""
    if audience(who) == Audience.INTERNAL:
        return True
    return status == OutcomeStatus.RELEASED


def public_status(who: Principal, status: OutcomeStatus) -> str:
    """The status a caller reads: external users see `PENDING_QA` until release."""
    return status.value if grade_visible(who, status) else EXTERNAL_PENDING


class RebookingKind(StrEnum):
    """What a failed, released result is booked for."""

    RESIT = "resit"  # the failed element again
    RETAKE = "retake"  # the candidate enters retake review


def can_rebook(*, grade: Grade, status: OutcomeStatus) -> None:
    """A resit or retake needs a failed result that has been released."""
    if grade != Grade.FAIL:
        raise Conflict(f"only a failed result can be rebooked; this one is {grade.value}")
    if status != OutcomeStatus.RELEASED:
        raise Conflict(
            "the failed result has not been released yet; it can be rebooked once released",
            allowed=["release"],
        )
