"""Induction facts reported by two parties: which report wins, claims, and discrepancies.

The school reports first and is used at once (provisional); the appropriate body (AB)
confirms or overrides it by claiming the teacher; data migrated from the older service
is a third source below both. Effective values are always derived from the reports as
received, never stored over them.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.errors import Conflict

TRN_PATTERN = r"^[0-9]{7}$"
_TRN = re.compile(TRN_PATTERN)


class ProgrammeType(StrEnum):
    """How the early-career teacher is trained."""

    SCHOOL_LED = "school_led"
    PROVIDER_LED = "provider_led"


class Source(StrEnum):
    """Where an effective value came from, most trusted first."""

    APPROPRIATE_BODY = "appropriate_body"
    SCHOOL = "school"
    MIGRATED = "migrated"


class ReportKind(StrEnum):
    """What a stored report is."""

    SCHOOL_REPORT = "school_report"
    AB_CLAIM = "ab_claim"
    AB_RELEASE = "ab_release"
    MIGRATED = "migrated"


SOURCE_OF: Mapping[ReportKind, Source] = {
    ReportKind.SCHOOL_REPORT: Source.SCHOOL,
    ReportKind.AB_CLAIM: Source.APPROPRIATE_BODY,
    ReportKind.AB_RELEASE: Source.APPROPRIATE_BODY,
    ReportKind.MIGRATED: Source.MIGRATED,
}


class InductionField(StrEnum):
    """The facts the parties report."""

    APPROPRIATE_BODY_ID = "appropriate_body_id"
    PROGRAMME_TYPE = "programme_type"
    START_DATE = "start_date"


# The AB is trusted for these; the start date is the school's alone.
AB_FIELDS = (InductionField.APPROPRIATE_BODY_ID, InductionField.PROGRAMME_TYPE)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Report(_Frozen):
    """One report as received, in arrival order (`reporter`: the school or AB id)."""

    kind: ReportKind
    reporter: str
    appropriate_body_id: str | None = None
    programme_type: ProgrammeType | None = None
    start_date: date | None = None
    at: datetime | None = None

    def value(self, name: InductionField) -> str | None:
        """The reported value of `name` as text (dates in ISO form), or None."""
        raw = getattr(self, name.value)
        return raw.isoformat() if isinstance(raw, date) else (None if raw is None else str(raw))


class FieldValue(_Frozen):
    """An effective value, where it came from, and whether the AB confirmed it."""

    value: str | None = None
    source: Source | None = None
    confirmed: bool = False


class Effective(_Frozen):
    """The effective value of every field."""

    appropriate_body_id: FieldValue = FieldValue()
    programme_type: FieldValue = FieldValue()
    start_date: FieldValue = FieldValue()

    def of(self, name: InductionField) -> FieldValue:
        """The effective value of `name`."""
        value: FieldValue = getattr(self, name.value)
        return value


class Difference(_Frozen):
    """The AB's value of a field differs from the school's."""

    field: InductionField
    school_value: str | None
    school_reporter: str
    ab_value: str | None
    ab_reporter: str


@dataclass
class _Fold:
    """What a sequence of reports adds up to."""

    holder: str | None = None
    claim: Report | None = None
    school: Report | None = None
    migrated: dict[InductionField, str] = field(default_factory=dict)
    unclaimed_since: datetime | None = None


def _fold(reports: Iterable[Report]) -> _Fold:
    state = _Fold()
    for report in reports:
        if report.kind == ReportKind.SCHOOL_REPORT:
            state.school = report
            if state.holder is None and state.unclaimed_since is None:
                state.unclaimed_since = report.at
        elif report.kind == ReportKind.AB_CLAIM and state.holder in (None, report.reporter):
            state.holder, state.claim, state.unclaimed_since = report.reporter, report, None
        elif report.kind == ReportKind.AB_RELEASE and state.holder == report.reporter:
            state.holder, state.claim = None, None
            state.unclaimed_since = report.at if state.school is not None else None
        elif report.kind == ReportKind.MIGRATED:
            for name in InductionField:
                if (value := report.value(name)) is not None:
                    state.migrated[name] = value
    return state


def claim_holder(reports: Iterable[Report]) -> str | None:
    """The AB holding the open claim (a claim another AB made meanwhile never counts)."""
    return _fold(reports).holder


def unclaimed_since(reports: Iterable[Report]) -> datetime | None:
    """Since when the school has waited for an AB: its first report with no claim open,
    or the last release after it; None while a claim is open or before any school report."""
    return _fold(reports).unclaimed_since


def reminder_due_at(unclaimed_since: datetime, reminder_days: int) -> datetime:
    """When the school is reminded that no AB has claimed the teacher."""
    return unclaimed_since + timedelta(days=reminder_days)


def effective(reports: Sequence[Report]) -> Effective:
    """The AB's open claim, else the school's latest report, else migrated data."""
    state = _fold(reports)
    values: dict[str, FieldValue] = {}
    for name in InductionField:
        if name in AB_FIELDS and state.claim is not None:
            values[name.value] = FieldValue(
                value=state.claim.value(name), source=Source.APPROPRIATE_BODY, confirmed=True
            )
        elif state.school is not None and state.school.value(name) is not None:
            values[name.value] = FieldValue(value=state.school.value(name), source=Source.SCHOOL)
        elif name in state.migrated:
            values[name.value] = FieldValue(value=state.migrated[name], source=Source.MIGRATED)
    return Effective.model_validate(values)


def confirmed_only(view: Effective) -> Effective:
    """What lead providers may see: AB-confirmed values, every other field blank."""
    return Effective.model_validate(
        {name.value: view.of(name) for name in InductionField if view.of(name).confirmed}
    )


def differences(reports: Sequence[Report]) -> dict[InductionField, Difference]:
    """Fields where the open claim and the school's latest report disagree."""
    state = _fold(reports)
    if state.claim is None or state.school is None:
        return {}
    found: dict[InductionField, Difference] = {}
    for name in AB_FIELDS:
        school_value, ab_value = state.school.value(name), state.claim.value(name)
        if school_value != ab_value:
            found[name] = Difference(
                field=name,
                school_value=school_value,
                school_reporter=state.school.reporter,
                ab_value=ab_value,
                ab_reporter=state.claim.reporter,
            )
    return found


@dataclass(frozen=True)
class Reconciliation:
    """Which discrepancies to open, and which open ones to resolve (by field)."""

    to_open: list[Difference]
    to_resolve: list[InductionField]


def reconcile(
    open_now: Mapping[InductionField, Difference], found: Mapping[InductionField, Difference]
) -> Reconciliation:
    """Resolve what no longer differs (or now differs otherwise); open what is new."""
    to_resolve = [name for name, diff in open_now.items() if found.get(name) != diff]
    to_open = [diff for name, diff in found.items() if open_now.get(name) != diff]
    return Reconciliation(to_open=to_open, to_resolve=to_resolve)


def check_claim(holder: str | None, appropriate_body_id: str, trn: str) -> None:
    """An AB may claim (or amend its own claim) unless another AB holds an open claim."""
    if holder is not None and holder != appropriate_body_id:
        raise Conflict(
            f"appropriate body {holder} holds an open claim on teacher {trn}; "
            "it must release it before another appropriate body can claim",
            allowed=[],
        )


def check_release(holder: str | None, appropriate_body_id: str, trn: str) -> None:
    """Only the AB holding the open claim may release it."""
    if holder != appropriate_body_id:
        held = f"appropriate body {holder} holds it" if holder else "nobody holds one"
        raise Conflict(
            f"appropriate body {appropriate_body_id} holds no open claim on teacher {trn} ({held})",
            allowed=[],
        )


def is_trn(value: str) -> bool:
    """A teacher reference number: seven digits."""
    return bool(_TRN.fullmatch(value))


def case_statuses(holder: str | None, open_discrepancies: int, reminded: bool) -> list[str]:
    """The CaseStatus search-attribute values of a registration."""
    statuses = ["CLAIMED" if holder else "AWAITING_CLAIM"]
    if open_discrepancies:
        statuses.append("DISCREPANCY")
    if reminded and not holder:
        statuses.append("REMINDED")
    return statuses
