"""Roles, the caller, and who may read or act on what (the matrix in API.md)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """Every role a token may carry."""

    ADMIN = "admin"
    REVIEWER = "reviewer"
    ASSIGNER = "assigner"
    ASSESSOR = "assessor"
    QA = "qa"
    RELEASER = "releaser"
    AWARDING_ORG = "awarding_org"
    INTEGRATION = "integration"
    APPLICANT = "applicant"
    CANDIDATE = "candidate"
    PROVIDER = "provider"
    EMPLOYER = "employer"
    SCHOOL = "school"
    APPROPRIATE_BODY = "appropriate_body"
    LEAD_PROVIDER = "lead_provider"


INTERNAL_ROLES = frozenset(
    {
        Role.ADMIN,
        Role.REVIEWER,
        Role.ASSIGNER,
        Role.ASSESSOR,
        Role.QA,
        Role.RELEASER,
        Role.AWARDING_ORG,
        Role.INTEGRATION,
    }
)
EXTERNAL_ROLES = frozenset(set(Role) - INTERNAL_ROLES)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, roles and organisation."""

    sub: str
    roles: frozenset[Role]
    name: str = ""
    org: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def has(self, *roles: Role) -> bool:
        """True when the caller holds any of `roles`."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_internal(self) -> bool:
        """True for staff roles, who see work in progress."""
        return not self.roles.isdisjoint(INTERNAL_ROLES)


@dataclass(frozen=True)
class Permission:
    """A check of the caller's roles alone (any of `roles`, or with `staff` any internal
    role), named like the function it stands in for."""

    name: str
    roles: frozenset[Role] = frozenset()
    staff: bool = False

    @property
    def __name__(self) -> str:
        """The permission's name, as a function's would be."""
        return self.name

    def __call__(self, who: Principal) -> bool:
        """True when `who` holds the permission."""
        return who.is_internal if self.staff else who.has(*self.roles)


def held_by(name: str, *roles: Role) -> Permission:
    """The permission `name` that any one of `roles` grants."""
    return Permission(name, roles=frozenset(roles))


def staff_only(name: str) -> Permission:
    """The permission `name` that every internal role holds: work in progress is staff's."""
    return Permission(name, staff=True)


# Users and templates are written by admins only.
can_manage_users = held_by("can_manage_users", Role.ADMIN)

# Any internal role reads templates (reviewers need the checks).
can_read_templates = staff_only("can_read_templates")

# Applicants start applications.
can_create_application = held_by("can_create_application", Role.APPLICANT)


def can_read_application(who: Principal, *, applicant_id: str) -> bool:
    """The owner and internal roles read an application."""
    return who.is_internal or who.sub == applicant_id


def can_act_on_application(who: Principal, *, applicant_id: str) -> bool:
    """Only the owning applicant edits, submits or withdraws."""
    return who.has(Role.APPLICANT) and who.sub == applicant_id


# The assessment (sections passed, failure reasons selected) is internal work.
can_read_assessment = staff_only("can_read_assessment")

# What an applicant reads of their application's trail: the steps they took or were told
# of, each with only the details already shown to them elsewhere. Reviews, assignments,
# levels and check-list syncs are internal (a decline is shown only through `questions`).
APPLICANT_HISTORY: Mapping[str, frozenset[str]] = {
    "created": frozenset({"template_version"}),
    "submitted": frozenset({"submission", "stage", "template_code"}),
    "resubmitted": frozenset({"submission", "stage", "template_code"}),
    "withdrawn": frozenset({"reason"}),
    "stage_entered": frozenset({"stage"}),
    "loq_sent": frozenset({"loq_round", "deadline_at", "questions"}),
    "loq_reminder": frozenset({"loq_round", "deadline_at"}),
    "completed": frozenset({"outcome", "reason"}),
}
STAFF_ACTOR = "staff"


# Internal roles read the whole audit trail; an applicant reads `applicant_entry`s.
sees_full_history = staff_only("sees_full_history")


def applicant_entry(
    who: Principal, *, actor: str, action: str, detail: Mapping[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The (actor, detail) of a trail entry as the applicant `who` sees it, or None when
    the entry is internal; another person's identity shows as `STAFF_ACTOR`."""
    shown = APPLICANT_HISTORY.get(action)
    if shown is None:
        return None
    visible_actor = actor if actor in (who.sub, "system") else STAFF_ACTOR
    return visible_actor, {key: value for key, value in detail.items() if key in shown}


# Reviewers and assigners (and other staff) list applications.
can_list_applications = staff_only("can_list_applications")

# Assignments and reviews are internal work.
can_read_reviews = staff_only("can_read_reviews")

# Assigners give (and take back) review work.
can_assign = held_by("can_assign", Role.ASSIGNER)

# Schools report an early-career teacher's induction (for their own org).
can_report_induction = held_by("can_report_induction", Role.SCHOOL)

# Appropriate bodies claim and release teachers (for their own org).
can_claim_induction = held_by("can_claim_induction", Role.APPROPRIATE_BODY)

# Admins load data migrated from the older service.
can_migrate_induction = held_by("can_migrate_induction", Role.ADMIN)


def can_read_inductions(who: Principal) -> bool:
    """Admins and lead providers read inductions; schools and appropriate bodies too, when
    their token names the organisation they read for (without one, none is theirs: 403)."""
    if who.has(Role.ADMIN, Role.LEAD_PROVIDER):
        return True
    return who.has(Role.SCHOOL, Role.APPROPRIATE_BODY) and who.org is not None


def acts_for(who: Principal, org: str) -> bool:
    """True when the caller's token belongs to organisation `org`."""
    return who.org is not None and who.org == org


def induction_view(
    who: Principal, *, schools: set[str], claimants: set[str], claimed: bool
) -> str | None:
    """How much of a teacher's induction the caller sees: "full" (admin, a school that
    reported it, an AB that claimed it), "confirmed" (lead providers, once an AB claims),
    or None (404: not theirs, so its existence is not revealed)."""
    if who.has(Role.ADMIN):
        return "full"
    if who.org is not None and (
        (who.has(Role.SCHOOL) and who.org in schools)
        or (who.has(Role.APPROPRIATE_BODY) and who.org in claimants)
    ):
        return "full"
    if who.has(Role.LEAD_PROVIDER) and claimed:
        return "confirmed"
    return None


# Admins create and edit providers, employers, candidates and elements.
can_manage_outcome_records = held_by("can_manage_outcome_records", Role.ADMIN)

# Admins and assessors move a candidate's status (and gateway date).
can_set_candidate_status = held_by("can_set_candidate_status", Role.ADMIN, Role.ASSESSOR)

# Assessors submit (and amend) results and certifications.
can_submit_outcomes = held_by("can_submit_outcomes", Role.ASSESSOR)

# QA signs results and certifications off.
can_qa_outcomes = held_by("can_qa_outcomes", Role.QA)

# Releasers ("process outcome releases") release now or on a schedule.
can_release_outcomes = held_by("can_release_outcomes", Role.RELEASER)


# The pending-release list and batches are internal.
can_read_pending_releases = staff_only("can_read_pending_releases")

# Admins and assessors book resits and retakes.
can_rebook_outcomes = held_by("can_rebook_outcomes", Role.ADMIN, Role.ASSESSOR)

# The event feed is for admins and integrations.
can_read_events = held_by("can_read_events", Role.ADMIN, Role.INTEGRATION)
