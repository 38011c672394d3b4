"""Who may read or act on what: every helper over every role."""

from collections.abc import Callable

import pytest

from domain.access import (
    EXTERNAL_ROLES,
    INTERNAL_ROLES,
    STAFF_ACTOR,
    Principal,
    Role,
    applicant_entry,
    can_act_on_application,
    can_create_application,
    can_list_applications,
    can_manage_users,
    can_read_application,
    can_read_assessment,
    can_read_templates,
    sees_full_history,
)
from tests.domain.builders import make_principal

# Written out from API.md rather than imported, so a change to the code shows up here.
INTERNAL = {
    Role.ADMIN,
    Role.REVIEWER,
    Role.ASSIGNER,
    Role.ASSESSOR,
    Role.QA,
    Role.RELEASER,
    Role.AWARDING_ORG,
    Role.INTEGRATION,
}
EXTERNAL = {
    Role.APPLICANT,
    Role.CANDIDATE,
    Role.PROVIDER,
    Role.EMPLOYER,
    Role.SCHOOL,
    Role.APPROPRIATE_BODY,
    Role.LEAD_PROVIDER,
}
ROLES = list(Role)
OWNER, STRANGER = "user-1", "someone-else"


def test_internal_and_external_roles_split_every_role() -> None:
    assert set(Role) == INTERNAL | EXTERNAL
    assert not INTERNAL & EXTERNAL
    assert set(INTERNAL_ROLES) == INTERNAL
    assert set(EXTERNAL_ROLES) == EXTERNAL


@pytest.mark.parametrize("role", ROLES)
def test_is_internal_holds_for_staff_roles_only(role: Role) -> None:
    assert make_principal(role).is_internal is (role in INTERNAL)


GLOBAL_RULES: list[tuple[Callable[[Principal], bool], set[Role]]] = [
    (can_manage_users, {Role.ADMIN}),
    (can_read_templates, INTERNAL),
    (can_create_application, {Role.APPLICANT}),
    (can_list_applications, INTERNAL),
    (can_read_assessment, INTERNAL),
    (sees_full_history, INTERNAL),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("rule", "granted_to"), GLOBAL_RULES, ids=[rule.__name__ for rule, _ in GLOBAL_RULES]
)
def test_each_permission_is_granted_to_its_roles_only(
    rule: Callable[[Principal], bool], granted_to: set[Role], role: Role
) -> None:
    assert rule(make_principal(role)) is (role in granted_to)


@pytest.mark.parametrize(
    "rule", [rule for rule, _ in GLOBAL_RULES], ids=[rule.__name__ for rule, _ in GLOBAL_RULES]
)
def test_a_caller_with_no_roles_is_granted_nothing(rule: Callable[[Principal], bool]) -> None:
    assert rule(make_principal()) is False


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("owner", [True, False], ids=["owner", "stranger"])
def test_an_application_is_read_by_its_owner_or_internal_roles(role: Role, owner: bool) -> None:
    who = make_principal(role, sub=OWNER)
    applicant_id = OWNER if owner else STRANGER

    assert can_read_application(who, applicant_id=applicant_id) is (owner or role in INTERNAL)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("owner", [True, False], ids=["owner", "stranger"])
def test_only_the_owning_applicant_acts_on_an_application(role: Role, owner: bool) -> None:
    who = make_principal(role, sub=OWNER)
    applicant_id = OWNER if owner else STRANGER

    assert can_act_on_application(who, applicant_id=applicant_id) is (
        owner and role is Role.APPLICANT
    )


@pytest.mark.parametrize("role", sorted(INTERNAL))
def test_staff_who_also_apply_act_only_on_their_own_application(role: Role) -> None:
    who = make_principal(Role.APPLICANT, role, sub=OWNER)

    assert can_act_on_application(who, applicant_id=OWNER)
    assert not can_act_on_application(who, applicant_id=STRANGER)
    assert can_read_application(who, applicant_id=STRANGER)
    assert can_list_applications(who)


def test_a_caller_with_no_roles_reads_only_an_application_under_their_id() -> None:
    who = make_principal(sub=OWNER)

    assert can_read_application(who, applicant_id=OWNER)
    assert not can_read_application(who, applicant_id=STRANGER)
    assert not can_act_on_application(who, applicant_id=OWNER)


@pytest.mark.parametrize("role", ROLES)
def test_has_is_true_for_any_held_role(role: Role) -> None:
    who = make_principal(role)

    assert who.has(role)
    assert who.has(Role.ADMIN, role)
    assert not who.has(*(r for r in Role if r is not role))
    assert not who.has()


ALICE = Principal(sub="alice", roles=frozenset({Role.APPLICANT}))
# Every action the application's trail holds today, and what the applicant reads of it.
TRAIL = [
    ("created", {"template_version": 1}, {"template_version": 1}),
    ("submitted", {"submission": 1, "stage": "a", "template_code": "qts"}, None),
    ("resubmitted", {"submission": 2, "stage": "a", "template_code": "qts"}, None),
    ("withdrawn", {"reason": None}, {"reason": None}),
    ("stage_entered", {"stage": "b"}, {"stage": "b"}),
    ("loq_sent", {"loq_round": 1, "deadline_at": "d", "questions": ["full_name"]}, None),
    ("loq_reminder", {"loq_round": 1, "deadline_at": "d"}, None),
    ("completed", {"outcome": "REJECTED", "reason": "NON_CONFORM"}, None),
    ("level_reached", {"stage": "a", "level": 1}, "hidden"),
    ("assigned", {"sections": ["personal"]}, "hidden"),
    ("self_assigned", {"sections": ["personal"]}, "hidden"),
    ("unassigned", {"sections": ["personal"]}, "hidden"),
    ("assignments_synced", {"stage": "a", "level": 1, "changes": []}, "hidden"),
    ("review_started", {"review_id": "r", "assignment_id": "a", "level": 1}, "hidden"),
    ("review_restarted", {"review_id": "r", "round": 2}, "hidden"),
    ("review_submitted", {"review_id": "r", "decision": "NON_CONFORM"}, "hidden"),
    ("changes_requested", {"review_id": "r", "targets": ["t"]}, "hidden"),
    ("checklist_synced", {"sync_id": "s", "sections": []}, "hidden"),
]


@pytest.mark.parametrize(
    ("action", "detail", "shown"), TRAIL, ids=[action for action, _, _ in TRAIL]
)
def test_the_applicant_reads_only_the_entries_made_for_them(
    action: str, detail: dict[str, object], shown: object
) -> None:
    entry = applicant_entry(ALICE, actor="alice", action=action, detail=detail)

    if shown == "hidden":
        assert entry is None
    else:
        assert entry == ("alice", detail if shown is None else shown)


def test_the_applicant_reads_only_the_details_made_for_them() -> None:
    detail = {"outcome": "REJECTED", "reason": "NON_CONFORM", "failure_reasons": ["fraud"]}

    entry = applicant_entry(ALICE, actor="rev-1", action="completed", detail=detail)

    assert entry == (STAFF_ACTOR, {"outcome": "REJECTED", "reason": "NON_CONFORM"})
    assert applicant_entry(ALICE, actor="system", action="loq_reminder", detail={}) == (
        "system",
        {},
    )
