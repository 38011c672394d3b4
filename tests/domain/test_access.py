"""Who may read or act on what: every helper over every role."""

from collections.abc import Callable

import pytest

from domain.access import (
    EXTERNAL_ROLES,
    INTERNAL_ROLES,
    Principal,
    Role,
    can_act_on_application,
    can_create_application,
    can_list_applications,
    can_manage_users,
    can_read_application,
    can_read_templates,
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
