"""Who may claim, start or submit a review, and when: every status against every guard."""

import itertools

import pytest

from domain.application import ApplicationStatus
from domain.errors import Conflict, Forbidden
from domain.review import AssignmentStatus, ReviewStatus, ensure_disagreements_changed
from domain.review_guards import (
    OPEN_FOR_CLAIMS,
    OPEN_FOR_REVIEW,
    Seat,
    ensure_can_claim,
    ensure_can_start,
    ensure_can_submit,
    ensure_claims_open,
    newly_claimed,
)

REVIEWER = "rita"
REVIEW_STATUSES: list[ReviewStatus | None] = [None, *ReviewStatus]


def seat(
    application_status: ApplicationStatus = ApplicationStatus.SUBMITTED,
    *,
    assignment_status: AssignmentStatus = AssignmentStatus.ASSIGNED,
    self_assignable: bool = True,
    review_status: ReviewStatus | None = None,
) -> Seat:
    """Rita's assignment on an application in `application_status`."""
    return Seat(
        application_status=application_status,
        reviewer_id=REVIEWER,
        assignment_status=assignment_status,
        is_self_assignable=self_assignable,
        review_status=review_status,
    )


def test_review_is_open_only_while_submitted_and_claims_also_during_a_list_of_questions() -> None:
    assert {ApplicationStatus.SUBMITTED} == OPEN_FOR_REVIEW
    assert {ApplicationStatus.SUBMITTED, ApplicationStatus.CHANGES_REQUIRED} == OPEN_FOR_CLAIMS


@pytest.mark.parametrize("status", list(ApplicationStatus))
def test_claims_are_open_in_the_review_statuses_only(status: ApplicationStatus) -> None:
    if status in OPEN_FOR_CLAIMS:
        ensure_claims_open(status)
        return
    with pytest.raises(Conflict, match=f"the application is {status.value}; nothing can be"):
        ensure_claims_open(status)


@pytest.mark.parametrize(
    ("status", "by_assigner", "actor", "self_assignable"),
    list(
        itertools.product(
            list(ApplicationStatus), [True, False], [REVIEWER, "someone-else"], [True, False]
        )
    ),
)
def test_claim_guard_over_every_case(
    status: ApplicationStatus, by_assigner: bool, actor: str, self_assignable: bool
) -> None:
    the_seat = seat(status, self_assignable=self_assignable)
    if status not in OPEN_FOR_CLAIMS:
        expected: tuple[type[Exception], str] | None = (Conflict, "nothing can be assigned")
    elif by_assigner:
        expected = None
    elif actor != REVIEWER:
        expected = (Forbidden, "only the assignment's own reviewer can self-assign it")
    elif not self_assignable:
        expected = (Conflict, "this stage is not self-assignable")
    else:
        expected = None
    if expected is None:
        ensure_can_claim(the_seat, actor, by_assigner=by_assigner)
        return
    with pytest.raises(expected[0], match=expected[1]):
        ensure_can_claim(the_seat, actor, by_assigner=by_assigner)


@pytest.mark.parametrize(
    ("status", "assignment_status", "review_status", "actor"),
    list(
        itertools.product(
            list(ApplicationStatus), list(AssignmentStatus), REVIEW_STATUSES, [REVIEWER, "bob"]
        )
    ),
)
def test_start_guard_over_every_case(
    status: ApplicationStatus,
    assignment_status: AssignmentStatus,
    review_status: ReviewStatus | None,
    actor: str,
) -> None:
    the_seat = seat(status, assignment_status=assignment_status, review_status=review_status)
    startable = {None, ReviewStatus.DRAFT, ReviewStatus.PENDING, ReviewStatus.CHANGES_REQUESTED}
    if actor != REVIEWER:
        expected: tuple[type[Exception], str] | None = (Forbidden, "starts its review")
    elif assignment_status != AssignmentStatus.ASSIGNED:
        expected = (Conflict, "take sections of this assignment")
    elif status != ApplicationStatus.SUBMITTED:
        expected = (Conflict, f"the application is {status.value}; reviews start once submitted")
    elif review_status not in startable:
        assert review_status is not None
        expected = (Conflict, f"the review is {review_status.value}; only a DRAFT, PENDING")
    else:
        expected = None
    if expected is None:
        ensure_can_start(the_seat, actor)
        return
    with pytest.raises(expected[0], match=expected[1]):
        ensure_can_start(the_seat, actor)


@pytest.mark.parametrize(
    ("status", "review_status", "actor"),
    list(itertools.product(list(ApplicationStatus), REVIEW_STATUSES, [REVIEWER, "bob"])),
)
def test_submit_guard_over_every_case(
    status: ApplicationStatus, review_status: ReviewStatus | None, actor: str
) -> None:
    the_seat = seat(status, review_status=review_status)
    if actor != REVIEWER:
        expected: tuple[type[Exception], str] | None = (Forbidden, "the review's reviewer")
    elif review_status != ReviewStatus.DRAFT:
        named = review_status.value if review_status else "not started"
        expected = (Conflict, f"the review is {named}; only a DRAFT review can be submitted")
    elif status != ApplicationStatus.SUBMITTED:
        expected = (Conflict, f"the application is {status.value}; reviews are closed")
    else:
        expected = None
    if expected is None:
        ensure_can_submit(the_seat, actor)
        return
    with pytest.raises(expected[0], match=expected[1]):
        ensure_can_submit(the_seat, actor)


@pytest.mark.parametrize(
    ("wanted", "assigned", "new"),
    [
        (["s1", "s2"], [], ["s1", "s2"]),
        (["s1", "s2"], ["s1"], ["s2"]),
        (["s2", "s1"], ["s3"], ["s2", "s1"]),
    ],
)
def test_a_claim_adds_the_sections_not_yet_held(
    wanted: list[str], assigned: list[str], new: list[str]
) -> None:
    assert newly_claimed(wanted, assigned) == new


def test_a_claim_adding_nothing_is_refused() -> None:
    with pytest.raises(Conflict, match="already holds these sections"):
        newly_claimed(["s1"], ["s1", "s2"])


@pytest.mark.parametrize(
    ("disagreed", "unchanged"),
    [
        ([], None),
        (["old-response"], None),  # changed: the new response has a new id
        (["r1"], "unchanged: full_name"),
        (["r2", "r1", "elsewhere"], "unchanged: full_name, years"),
    ],
)
def test_every_disagreed_response_must_change(disagreed: list[str], unchanged: str | None) -> None:
    live = {"r1": "full_name", "r2": "years", "r3": "email"}
    if unchanged is None:
        ensure_disagreements_changed(live, disagreed)
        return
    with pytest.raises(Conflict) as refused:
        ensure_disagreements_changed(live, disagreed)
    assert refused.value.detail.endswith(unchanged)
    assert refused.value.allowed == []
