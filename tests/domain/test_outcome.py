"""The release path as a full table, and the visibility and rebooking rules."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.access import Principal, Role
from domain.errors import Conflict, Invalid
from domain.outcome import (
    EXTERNAL_PENDING,
    Audience,
    CandidateStatus,
    Grade,
    OutcomeStatus,
    ReleaseMethod,
    ReleaseMode,
    Step,
    audience,
    can_read_outcome_records,
    can_rebook,
    cancel_refusal,
    check_release_at,
    check_release_with_qa_roles,
    ensure_allowed,
    grade_visible,
    is_active,
    may_see,
    on_qa_signoff,
    on_submission,
    public_status,
)

RELEASED_AUTO = Step(OutcomeStatus.RELEASED, ReleaseMethod.AUTOMATIC)
RELEASED_VOID = Step(OutcomeStatus.RELEASED, ReleaseMethod.VOID)
RELEASED_WITH_QA = Step(OutcomeStatus.RELEASED, ReleaseMethod.WITH_QA)
IN_QA = Step(OutcomeStatus.IN_QA)
PENDING = Step(OutcomeStatus.PENDING_RELEASE)
AMEND = Step(OutcomeStatus.AMENDMENT_REQUIRED)
CONFLICT = "409"
INVALID = "422"

# (void, sampled, provider auto-releases, QA passed, release with QA) → where it ends.
# Unsampled outcomes have no QA, so their QA columns are None.
PATH = [
    # not void, not sampled: complete at submission
    (False, False, True, None, None, RELEASED_AUTO),
    (False, False, False, None, None, PENDING),
    # not void, sampled: QA first
    (False, True, True, True, False, RELEASED_AUTO),
    (False, True, True, True, True, CONFLICT),
    (False, True, True, False, False, AMEND),
    (False, True, True, False, True, CONFLICT),
    (False, True, False, True, False, PENDING),
    (False, True, False, True, True, RELEASED_WITH_QA),
    (False, True, False, False, False, AMEND),
    (False, True, False, False, True, INVALID),
    # void: released at once, whatever the provider and the sample
    (True, False, True, None, None, RELEASED_VOID),
    (True, False, False, None, None, RELEASED_VOID),
    (True, True, True, None, None, RELEASED_VOID),
    (True, True, False, None, None, RELEASED_VOID),
]


@pytest.mark.parametrize(("void", "sampled", "auto", "passed", "with_qa", "expected"), PATH)
def test_release_path(
    void: bool,
    sampled: bool,
    auto: bool,
    passed: bool | None,
    with_qa: bool | None,
    expected: Step | str,
) -> None:
    grade = Grade.VOID if void else Grade.PASS
    step = on_submission(grade=grade, sampled_for_qa=sampled, auto_release=auto)
    if passed is None:
        assert step == expected
        return
    assert step == IN_QA
    if isinstance(expected, Step):
        assert on_qa_signoff(passed=passed, release_with_qa=bool(with_qa), auto_release=auto) == (
            expected
        )
        return
    refusal = Conflict if expected == CONFLICT else Invalid
    with pytest.raises(refusal):
        on_qa_signoff(passed=passed, release_with_qa=bool(with_qa), auto_release=auto)


def test_every_combination_is_in_the_table() -> None:
    combos = {(v, s, a) for v, s, a, *_ in PATH}
    assert combos == {
        (v, s, a) for v in (True, False) for s in (True, False) for a in (True, False)
    }
    sampled_rows = {(a, p, w) for v, s, a, p, w, _ in PATH if s and not v}
    assert sampled_rows == {(a, p, w) for a in (1, 0) for p in (1, 0) for w in (1, 0)}


@pytest.mark.parametrize("grade", [g for g in Grade if g != Grade.VOID])
def test_every_non_void_grade_takes_the_same_path(grade: Grade) -> None:
    assert on_submission(grade=grade, sampled_for_qa=False, auto_release=False) == PENDING


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        ({Role.QA, Role.RELEASER}, True),
        ({Role.QA}, False),
        ({Role.RELEASER}, False),
        ({Role.QA, Role.ADMIN}, False),
    ],
)
def test_release_with_qa_needs_qa_and_releaser(roles: set[Role], allowed: bool) -> None:
    who = Principal(sub="u", roles=frozenset(roles))
    check_release_with_qa_roles(who, release_with_qa=False)
    if allowed:
        check_release_with_qa_roles(who, release_with_qa=True)
    else:
        with pytest.raises(Invalid) as refused:
            check_release_with_qa_roles(who, release_with_qa=True)
        assert refused.value.errors == [
            {"field": "release_with_qa", "message": "needs the qa and releaser roles"}
        ]


@pytest.mark.parametrize(
    ("status", "action", "ok"),
    [
        (OutcomeStatus.IN_QA, "qa", True),
        (OutcomeStatus.PENDING_RELEASE, "qa", False),
        (OutcomeStatus.AMENDMENT_REQUIRED, "amend", True),
        (OutcomeStatus.IN_QA, "amend", False),
        (OutcomeStatus.PENDING_RELEASE, "release_now", True),
        (OutcomeStatus.PENDING_RELEASE, "schedule_release", True),
        (OutcomeStatus.RELEASED, "release_now", False),
        (OutcomeStatus.IN_QA, "schedule_release", False),
    ],
)
def test_transitions_name_what_is_allowed(status: OutcomeStatus, action: str, ok: bool) -> None:
    if ok:
        ensure_allowed(action, status)
        return
    with pytest.raises(Conflict) as refused:
        ensure_allowed(action, status)
    assert refused.value.allowed is not None
    assert action not in refused.value.allowed


NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mode", "release_at", "ok"),
    [
        (ReleaseMode.NOW, None, True),
        (ReleaseMode.NOW, NOW + timedelta(days=1), False),
        (ReleaseMode.SCHEDULED, NOW + timedelta(seconds=1), True),
        (ReleaseMode.SCHEDULED, NOW, False),
        (ReleaseMode.SCHEDULED, NOW - timedelta(days=1), False),
        (ReleaseMode.SCHEDULED, None, False),
        (ReleaseMode.SCHEDULED, datetime(2027, 1, 1), False),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_release_at(mode: ReleaseMode, release_at: datetime | None, ok: bool) -> None:
    if ok:
        check_release_at(mode=mode, release_at=release_at, now=NOW)
        return
    with pytest.raises(Invalid) as refused:
        check_release_at(mode=mode, release_at=release_at, now=NOW)
    assert refused.value.errors is not None
    assert refused.value.errors[0]["field"] == "release_at"


def _who(*roles: Role, org: str | None = None) -> Principal:
    return Principal(sub="u", roles=frozenset(roles), org=org)


@pytest.mark.parametrize("role", [Role.CANDIDATE, Role.PROVIDER, Role.EMPLOYER])
def test_external_users_see_no_grade_until_release(role: Role) -> None:
    who = _who(role, org="o")
    assert audience(who) == Audience.EXTERNAL
    for status in OutcomeStatus:
        released = status == OutcomeStatus.RELEASED
        assert grade_visible(who, status) is released
        assert public_status(who, status) == (status.value if released else EXTERNAL_PENDING)


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.ASSESSOR, Role.QA, Role.RELEASER, Role.AWARDING_ORG]
)
def test_internal_and_awarding_org_users_see_every_submitted_grade(role: Role) -> None:
    who = _who(role)
    assert all(grade_visible(who, status) for status in OutcomeStatus)
    assert may_see(who, candidate_id="c", provider_id="p", employer_id=None)


@pytest.mark.parametrize(
    ("role", "org", "visible"),
    [
        (Role.CANDIDATE, "c", True),
        (Role.CANDIDATE, "p", False),
        (Role.PROVIDER, "p", True),
        (Role.PROVIDER, "c", False),
        (Role.EMPLOYER, "e", True),
        (Role.EMPLOYER, "p", False),
        (Role.APPLICANT, "c", False),
        (Role.SCHOOL, "p", False),
        (Role.PROVIDER, None, False),
    ],
)
def test_external_users_see_only_their_org(role: Role, org: str | None, visible: bool) -> None:
    assert may_see(_who(role, org=org), candidate_id="c", provider_id="p", employer_id="e") is (
        visible
    )


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("org", [None, "org-1"], ids=["no-org", "org"])
def test_outcome_records_are_read_by_internal_roles_and_scoped_external_users(
    role: Role, org: str | None
) -> None:
    scoped = role in {Role.CANDIDATE, Role.PROVIDER, Role.EMPLOYER} and org is not None
    internal = _who(role, org=org).is_internal

    assert can_read_outcome_records(_who(role, org=org)) is (internal or scoped)


@pytest.mark.parametrize(
    ("grade", "status", "ok"),
    [
        (Grade.FAIL, OutcomeStatus.RELEASED, True),
        (Grade.FAIL, OutcomeStatus.PENDING_RELEASE, False),
        (Grade.FAIL, OutcomeStatus.IN_QA, False),
        (Grade.PASS, OutcomeStatus.RELEASED, False),
        (Grade.VOID, OutcomeStatus.RELEASED, False),
    ],
)
def test_rebooking_needs_a_released_fail(grade: Grade, status: OutcomeStatus, ok: bool) -> None:
    if ok:
        can_rebook(grade=grade, status=status)
    else:
        with pytest.raises(Conflict):
            can_rebook(grade=grade, status=status)


def test_active_candidate_statuses() -> None:
    active = {s for s in CandidateStatus if is_active(s)}
    assert active == {
        CandidateStatus.IN_ASSESSMENT,
        CandidateStatus.COMPLETED,
        CandidateStatus.CERTIFIED,
    }


S = OutcomeStatus
CANCEL_CASES = [
    # (status, own schedule, scheduled at all, what the refusal says; None: it is dropped)
    (S.PENDING_RELEASE, True, True, None),
    (S.PENDING_RELEASE, False, True, "a release batch holds the schedule"),
    (S.PENDING_RELEASE, False, False, "PENDING_RELEASE with no scheduled release"),
    (S.RELEASED, False, False, "released; a release cannot be undone"),
    (S.RELEASED, True, True, "released; a release cannot be undone"),
    (S.SUBMITTED, False, False, "SUBMITTED with no scheduled release"),
    (S.IN_QA, False, False, "IN_QA with no scheduled release"),
    (S.AMENDMENT_REQUIRED, False, False, "AMENDMENT_REQUIRED with no scheduled release"),
]


def test_the_cancel_cases_cover_every_status() -> None:
    assert {case[0] for case in CANCEL_CASES} == set(OutcomeStatus)


@pytest.mark.parametrize(("status", "own", "scheduled", "says"), CANCEL_CASES)
def test_an_operator_cancel_drops_only_a_pending_outcomes_own_schedule(
    status: OutcomeStatus, own: bool, scheduled: bool, says: str | None
) -> None:
    why = cancel_refusal(status, own_schedule=own, scheduled=scheduled)

    if says is None:
        assert why is None
    else:
        assert why is not None
        assert says in why
