"""Who may report, claim, migrate and read inductions: the API.md matrix over every role."""

import pytest

from domain.access import (
    Principal,
    Role,
    acts_for,
    can_claim_induction,
    can_migrate_induction,
    can_read_inductions,
    can_report_induction,
    induction_view,
)

ALL_ROLES = list(Role)


def _who(role: Role, org: str | None = None) -> Principal:
    return Principal(sub="u", roles=frozenset({role}), org=org)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_matching_role_may_act(role: Role) -> None:
    who = _who(role)

    assert can_report_induction(who) is (role == Role.SCHOOL)
    assert can_claim_induction(who) is (role == Role.APPROPRIATE_BODY)
    assert can_migrate_induction(who) is (role == Role.ADMIN)
    assert can_read_inductions(who) is (role in {Role.ADMIN, Role.LEAD_PROVIDER})
    assert can_read_inductions(_who(role, "org-1")) is (
        role in {Role.ADMIN, Role.SCHOOL, Role.APPROPRIATE_BODY, Role.LEAD_PROVIDER}
    )


def test_acting_for_an_org_needs_the_token_to_carry_it() -> None:
    assert acts_for(_who(Role.SCHOOL, "school-1"), "school-1")
    assert not acts_for(_who(Role.SCHOOL, "school-2"), "school-1")
    assert not acts_for(_who(Role.SCHOOL), "school-1")


@pytest.mark.parametrize(
    ("who", "claimed", "view"),
    [
        (_who(Role.ADMIN), False, "full"),
        (_who(Role.SCHOOL, "school-1"), False, "full"),
        (_who(Role.SCHOOL, "school-9"), True, None),
        (_who(Role.SCHOOL), True, None),
        (_who(Role.APPROPRIATE_BODY, "ab-1"), True, "full"),
        (_who(Role.APPROPRIATE_BODY, "ab-9"), True, None),
        (_who(Role.LEAD_PROVIDER, "lp-1"), True, "confirmed"),
        (_who(Role.LEAD_PROVIDER, "lp-1"), False, None),
        (_who(Role.REVIEWER), True, None),
        # An org id that happens to match, under the wrong role, sees nothing.
        (_who(Role.PROVIDER, "school-1"), True, None),
    ],
)
def test_each_caller_sees_only_its_teachers(
    who: Principal, claimed: bool, view: str | None
) -> None:
    assert induction_view(who, schools={"school-1"}, claimants={"ab-1"}, claimed=claimed) == view
