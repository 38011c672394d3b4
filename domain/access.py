"""Roles, the caller, and who may read or act on what (the matrix in API.md)."""

from dataclasses import dataclass, field
from enum import StrEnum


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


def can_list_applications(who: Principal) -> bool:
    """Reviewers and assigners (and other staff) list applications."""
    return who.is_internal


def can_read_reviews(who: Principal) -> bool:
    """Assignments and reviews are internal work."""
    return who.is_internal


def can_assign(who: Principal) -> bool:
    """Assigners give (and take back) review work."""
    return who.has(Role.ASSIGNER)
