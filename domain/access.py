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


def can_manage_users(who: Principal) -> bool:
    """Users and templates are written by admins only."""
    return who.has(Role.ADMIN)


def can_read_templates(who: Principal) -> bool:
    """Any internal role reads templates (reviewers need the checks)."""
    return who.is_internal


def can_create_application(who: Principal) -> bool:
    """Applicants start applications."""
    return who.has(Role.APPLICANT)


def can_read_application(who: Principal, *, applicant_id: str) -> bool:
    """The owner and internal roles read an application."""
    return who.is_internal or who.sub == applicant_id


def can_act_on_application(who: Principal, *, applicant_id: str) -> bool:
    """Only the owning applicant edits, submits or withdraws."""
    return who.has(Role.APPLICANT) and who.sub == applicant_id


def can_read_assessment(who: Principal) -> bool:
    """The assessment (sections passed, failure reasons selected) is internal work."""
    return who.is_internal


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


def can_list_applications(who: Principal) -> bool:
    """Reviewers and assigners (and other staff) list applications."""
    return who.is_internal


def can_read_reviews(who: Principal) -> bool:
    """Assignments and reviews are internal work."""
    return who.is_internal


def can_assign(who: Principal) -> bool:
    """Assigners give (and take back) review work."""
    return who.has(Role.ASSIGNER)


def can_report_induction(who: Principal) -> bool:
    """Schools report an early-career teacher's induction (for their own org)."""
    return who.has(Role.SCHOOL)


def can_claim_induction(who: Principal) -> bool:
    """Appropriate bodies claim and release teachers (for their own org)."""
    return who.has(Role.APPROPRIATE_BODY)


def can_migrate_induction(who: Principal) -> bool:
    """Admins load data migrated from the older service."""
    return who.has(Role.ADMIN)


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


def can_manage_outcome_records(who: Principal) -> bool:
    """Admins create and edit providers, employers, candidates and elements."""
    return who.has(Role.ADMIN)


def can_set_candidate_status(who: Principal) -> bool:
    """Admins and assessors move a candidate's status (and gateway date)."""
    return who.has(Role.ADMIN, Role.ASSESSOR)


def can_submit_outcomes(who: Principal) -> bool:
    """Assessors submit (and amend) results and certifications."""
    return who.has(Role.ASSESSOR)


def can_qa_outcomes(who: Principal) -> bool:
    """QA signs results and certifications off."""
    return who.has(Role.QA)


def can_release_outcomes(who: Principal) -> bool:
    """Releasers ("process outcome releases") release now or on a schedule."""
    return who.has(Role.RELEASER)


def can_read_pending_releases(who: Principal) -> bool:
    """The pending-release list and batches are internal."""
    return who.is_internal


def can_rebook_outcomes(who: Principal) -> bool:
    """Admins and assessors book resits and retakes."""
    return who.has(Role.ADMIN, Role.ASSESSOR)


def can_read_events(who: Principal) -> bool:
    """The event feed is for admins and integrations."""
    return who.has(Role.ADMIN, Role.INTEGRATION)
