"""Check-list sync rules: who may run one, which assessments it may touch, what it changes."""

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.access import Role, held_by
from domain.application import AssessmentStatus
from domain.template import TemplateDefinition

# Only these may be rewritten; once past NOT_STARTED an assessment never returns to it.
ELIGIBLE_STATUSES: tuple[AssessmentStatus, ...] = (
    AssessmentStatus.NOT_STARTED,
    AssessmentStatus.PRE_ASSESSMENT,
)
DEFAULT_PAGE_SIZE = 500


class SyncStatus(StrEnum):
    """Where a sync run stands."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"  # an operator cancelled its workflow: it stopped after a page


class ChangeKind(StrEnum):
    """What a sync does to one assessment section."""

    REPLACED = "replaced"  # checks and/or failure reasons replaced whole
    ADDED = "added"  # the newer template has a section the assessment lacks
    RETIRED = "retired"  # the newer template dropped the section: kept, stamped retired_at
    RESTORED = "restored"  # a retired section came back in a newer version


class ChangeRowKind(StrEnum):
    """What one row of a sync's change list records: a `ChangeKind`, or a failed assessment."""

    REPLACED = ChangeKind.REPLACED.value
    ADDED = ChangeKind.ADDED.value
    RETIRED = ChangeKind.RETIRED.value
    RESTORED = ChangeKind.RESTORED.value
    FAILED = "failed"  # the assessment could not be processed (its `error` says why)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Checklist(_Frozen):
    """What a reviewer must verify and may cite, for one section."""

    checks: list[str]
    failure_reasons: list[dict[str, Any]]


class CurrentSection(_Frozen):
    """An assessment section as it stands."""

    code: str
    preliminary: bool
    retired: bool
    checklist: Checklist
    selected_failure_reasons: list[str] = []


class SectionChange(_Frozen):
    """One section's change: `before` is None when added, `after` None when retired."""

    section: str
    kind: ChangeKind
    title: str | None = None
    position: int | None = None
    before: Checklist | None
    after: Checklist | None


# Admins start check-list syncs.
can_start_sync = held_by("can_start_sync", Role.ADMIN)

# Admins and assessors follow check-list syncs.
can_read_syncs = held_by("can_read_syncs", Role.ADMIN, Role.ASSESSOR)


def is_eligible(status: str) -> bool:
    """True while a sync may still rewrite an assessment in `status`."""
    return status in {s.value for s in ELIGIBLE_STATUSES}


def plan_sync(
    current: Sequence[CurrentSection], template: TemplateDefinition
) -> list[SectionChange]:
    """The changes that bring `current` up to `template`; [] when it is already current.

    Preliminary sections (on either side) are never touched. Sections are matched by
    code and replaced whole, never merged.
    """
    untouchable = {s.code for s in current if s.preliminary}
    untouchable |= {s.code for s in template.sections if s.preliminary}
    by_code = {s.code: s for s in current if s.code not in untouchable}
    changes: list[SectionChange] = []
    for position, section in enumerate(template.sections):
        if section.code in untouchable:
            continue
        target = Checklist(
            checks=list(section.checks),
            failure_reasons=[r.model_dump(mode="json") for r in section.failure_reasons],
        )
        existing = by_code.pop(section.code, None)
        if existing is None:
            changes.append(
                SectionChange(
                    section=section.code,
                    kind=ChangeKind.ADDED,
                    title=section.title,
                    position=position,
                    before=None,
                    after=target,
                )
            )
            continue
        after = keep_selected(target, existing)
        if existing.retired or after != existing.checklist:
            kind = ChangeKind.RESTORED if existing.retired else ChangeKind.REPLACED
            changes.append(
                SectionChange(
                    section=section.code, kind=kind, before=existing.checklist, after=after
                )
            )
    changes += [
        SectionChange(section=code, kind=ChangeKind.RETIRED, before=s.checklist, after=None)
        for code, s in by_code.items()
        if not s.retired
    ]
    return changes


def keep_selected(target: Checklist, existing: CurrentSection) -> Checklist:
    """`target`, plus any selected failure reason it drops, kept and marked retired.

    A reason a verdict already cites must still resolve to its label and kind, so it
    is never silently orphaned (decision 0021).
    """
    offered = {reason["code"] for reason in target.failure_reasons}
    kept = [
        {**reason, "retired": True}
        for reason in existing.checklist.failure_reasons
        if reason.get("code") in existing.selected_failure_reasons
        and reason.get("code") not in offered
    ]
    if not kept:
        return target
    return Checklist(checks=target.checks, failure_reasons=[*target.failure_reasons, *kept])
