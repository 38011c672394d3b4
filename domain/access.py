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
    """A check of the caller's roles alone: any of `roles`, or (`staff`) any internal role."""

    roles: frozenset[Role] = frozenset()
    staff: bool = False

    def __call__(self, who: Principal) -> bool:
        """True when `who` holds the permission."""
        return who.is_internal if self.staff else who.has(*self.roles)


def held_by(*roles: Role) -> Permission:
    """The permission that any one of `roles` grants."""
    return Permission(roles=frozenset(roles))


# Held by every internal role: work in progress is staff business.
STAFF = Permission(staff=True)


# Users and templates are written by admins only.
can_manage_users = held_by(Role.ADMIN)

# Any internal role reads templates (reviewers need the checks).
can_read_templates = STAFF

# Applicants start applications.
can_create_application = held_by(Role.APPLICANT)


def can_read_application(who: Principal, *, applicant_id: str) -> bool:
    """The owner and internal roles read an application."""
    return who.is_internal or who.sub == applicant_id


def can_act_on_application(who: Principal, *, applicant_id: str) -> bool:
    """Only the owning applicant edits, submits or withdraws."""
    return who.has(Role.APPLICANT) and who.sub == applicant_id


# The assessment (sections passed, failure reasons selected) is internal work.
can_read_assessment = STAFF

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


def sees_full_history(who: Principal) -> bool:
    """Internal roles read the whole audit trail; an applicant reads `applicant_entry`s."""
    return who.is_internal


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
can_list_applications = STAFF

# Assignments and reviews are internal work.
can_read_reviews = STAFF

# Assigners give (and take back) review work.
can_assign = held_by(Role.ASSIGNER)

# Schools report an early-career teacher's induction (for their own org).
can_report_induction = held_by(Role.SCHOOL)

# Appropriate bodies claim and release teachers (for their own org).
can_claim_induction = held_by(Role.APPROPRIATE_BODY)

# Admins load data migrated from the older service.
can_migrate_induction = held_by(Role.ADMIN)


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
can_manage_outcome_records = held_by(Role.ADMIN)

# Admins and assessors move a candidate's status (and gateway date).
can_set_candidate_status = held_by(Role.ADMIN, Role.ASSESSOR)

# Assessors submit (and amend) results and certifications.
can_submit_outcomes = held_by(Role.ASSESSOR)

# QA signs results and certifications off.
can_qa_outcomes = held_by(Role.QA)

# Releasers ("process outcome releases") release now or on a schedule.
can_release_outcomes = held_by(Role.RELEASER)


# The pending-release list and batches are internal.
can_read_pending_releases = STAFF

# Admins and assessors book resits and retakes.
can_rebook_outcomes = held_by(Role.ADMIN, Role.ASSESSOR)

# The event feed is for admins and integrations.
can_read_events = held_by(Role.ADMIN, Role.INTEGRATION)
