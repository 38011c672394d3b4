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

from domain.errors import Conflict, Forbidden, Invalid, field_error

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
    OUTCOME = "outcome"


SOURCE_OF: Mapping[ReportKind, Source] = {
    ReportKind.SCHOOL_REPORT: Source.SCHOOL,
    ReportKind.AB_CLAIM: Source.APPROPRIATE_BODY,
    ReportKind.AB_RELEASE: Source.APPROPRIATE_BODY,
    ReportKind.MIGRATED: Source.MIGRATED,
    ReportKind.OUTCOME: Source.APPROPRIATE_BODY,
}


class InductionOutcome(StrEnum):
    """What the holding AB records when its support ends."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    RELEASED = "RELEASED"  # support ends without an outcome: another AB may claim


# These close the induction for good.
CLOSING_OUTCOMES = frozenset({InductionOutcome.PASSED, InductionOutcome.FAILED})


class InductionStatus(StrEnum):
    """Whether the teacher's induction is still going on."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"


class InductionField(StrEnum):
    """The facts the parties report."""

    APPROPRIATE_BODY_ID = "appropriate_body_id"
    PROGRAMME_TYPE = "programme_type"
    START_DATE = "start_date"


# The AB is trusted for these; the start date is the school's alone.
AB_FIELDS = (InductionField.APPROPRIATE_BODY_ID, InductionField.PROGRAMME_TYPE)


class ClosureField(StrEnum):
    """A discrepancy about the induction itself: a school reports a closed one again."""

    INDUCTION_STATUS = "induction_status"


# What a discrepancy is about: an AB field, or the induction's status.
DiscrepancyField = InductionField | ClosureField


class DiscrepancyFieldName(StrEnum):
    """Every DiscrepancyField as one enum (how the discrepancy's column stores it)."""

    APPROPRIATE_BODY_ID = InductionField.APPROPRIATE_BODY_ID.value
    PROGRAMME_TYPE = InductionField.PROGRAMME_TYPE.value
    INDUCTION_STATUS = ClosureField.INDUCTION_STATUS.value


def discrepancy_field(name: str) -> DiscrepancyField:
    """The DiscrepancyField a stored name stands for."""
    if name == ClosureField.INDUCTION_STATUS:
        return ClosureField.INDUCTION_STATUS
    return InductionField(name)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Report(_Frozen):
    """One report as received, in arrival order (`reporter`: the school or AB id)."""

    kind: ReportKind
    reporter: str
    appropriate_body_id: str | None = None
    programme_type: ProgrammeType | None = None
    start_date: date | None = None
    started_on: date | None = None
    outcome: InductionOutcome | None = None
    completed_on: date | None = None
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

    field: DiscrepancyField
    school_value: str | None
    school_reporter: str
    ab_value: str | None
    ab_reporter: str


@dataclass
class _Fold:
    """What a sequence of reports adds up to (`closure`: the outcome report that closed it;
    reports after it are kept but change nothing, bar the school's late report)."""

    holder: str | None = None
    claim: Report | None = None
    school: Report | None = None
    migrated: dict[InductionField, str] = field(default_factory=dict)
    unclaimed_since: datetime | None = None
    outcome: Report | None = None  # the latest outcome of the current induction, if any
    closure: Report | None = None
    late_school: Report | None = None


def _school(state: _Fold, report: Report) -> None:
    if state.closure is not None:
        state.late_school = report
        return
    state.school = report
    if state.holder is None and state.unclaimed_since is None:
        state.unclaimed_since = report.at


def _claim(state: _Fold, report: Report) -> None:
    if state.closure is None and state.holder in (None, report.reporter):
        state.holder, state.claim, state.unclaimed_since = report.reporter, report, None
        state.outcome = None  # a new open induction (or the holder amending its own)


def _release(state: _Fold, report: Report) -> None:
    if state.closure is None and state.holder == report.reporter:
        state.holder, state.claim = None, None
        state.unclaimed_since = report.at if state.school is not None else None


def _outcome(state: _Fold, report: Report) -> None:
    if state.closure is not None or state.holder != report.reporter:
        return
    state.outcome = report
    if report.outcome in CLOSING_OUTCOMES:
        state.closure, state.unclaimed_since = report, None
    else:
        _release(state, report)


def _migrated(state: _Fold, report: Report) -> None:
    if state.closure is not None:
        return
    for name in InductionField:
        if (value := report.value(name)) is not None:
            state.migrated[name] = value


_FOLDS = {
    ReportKind.SCHOOL_REPORT: _school,
    ReportKind.AB_CLAIM: _claim,
    ReportKind.AB_RELEASE: _release,
    ReportKind.OUTCOME: _outcome,
    ReportKind.MIGRATED: _migrated,
}


def _fold(reports: Iterable[Report]) -> _Fold:
    state = _Fold()
    for report in reports:
        _FOLDS[report.kind](state, report)
    return state


@dataclass(frozen=True)
class Standing:
    """Where a teacher's induction stands: open or closed, and by which outcome."""

    status: InductionStatus
    outcome: InductionOutcome | None = None  # the closing one, or RELEASED until a new claim
    completed_on: date | None = None
    recorded_by: str | None = None  # the AB that recorded `outcome`
    claim_started_on: date | None = None  # the holder's `started_on`

    @property
    def closed_by(self) -> InductionOutcome | None:
        """The outcome that closed the induction (None while it is open)."""
        return self.outcome if self.status == InductionStatus.CLOSED else None


def standing(reports: Iterable[Report]) -> Standing:
    """The induction's status and latest outcome, derived from the reports."""
    state = _fold(reports)
    status = InductionStatus.OPEN if state.closure is None else InductionStatus.CLOSED
    last = state.outcome
    return Standing(
        status=status,
        outcome=None if last is None else last.outcome,
        completed_on=None if last is None else last.completed_on,
        recorded_by=None if last is None else last.reporter,
        claim_started_on=None if state.claim is None else state.claim.started_on,
    )


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


def differences(reports: Sequence[Report]) -> dict[DiscrepancyField, Difference]:
    """Fields where the claim and the school's latest report disagree; and, once the
    induction is closed, a school that reports it again (it says the induction goes on)."""
    state = _fold(reports)
    found: dict[DiscrepancyField, Difference] = {}
    if state.closure is not None and state.late_school is not None:
        found[ClosureField.INDUCTION_STATUS] = Difference(
            field=ClosureField.INDUCTION_STATUS,
            school_value=InductionStatus.OPEN.value,
            school_reporter=state.late_school.reporter,
            ab_value=None if state.closure.outcome is None else state.closure.outcome.value,
            ab_reporter=state.closure.reporter,
        )
    if state.claim is None or state.school is None:
        return found
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
    to_resolve: list[DiscrepancyField]


def reconcile(
    open_now: Mapping[DiscrepancyField, Difference], found: Mapping[DiscrepancyField, Difference]
) -> Reconciliation:
    """Resolve what no longer differs (or now differs otherwise); open what is new."""
    to_resolve = [name for name, diff in open_now.items() if found.get(name) != diff]
    to_open = [diff for name, diff in found.items() if open_now.get(name) != diff]
    return Reconciliation(to_open=to_open, to_resolve=to_resolve)


def check_open(closed_by: InductionOutcome | None, trn: str) -> None:
    """Nothing changes a closed induction's claim: the refusal names its outcome."""
    if closed_by is not None:
        raise Conflict(
            f"the induction of teacher {trn} is closed: its outcome {closed_by.value} "
            "was recorded, so it cannot be claimed, released or given another outcome",
            allowed=[],
        )


def check_claim(
    holder: str | None,
    appropriate_body_id: str,
    trn: str,
    closed_by: InductionOutcome | None = None,
) -> None:
    """An AB may claim (or amend its own claim) unless the induction is closed or another
    AB holds an open claim."""
    check_open(closed_by, trn)
    if holder is not None and holder != appropriate_body_id:
        raise Conflict(
            f"appropriate body {holder} holds an open claim on teacher {trn}; "
            "it must release it before another appropriate body can claim",
            allowed=[],
        )


def check_release(
    holder: str | None,
    appropriate_body_id: str,
    trn: str,
    closed_by: InductionOutcome | None = None,
) -> None:
    """Only the AB holding the open claim of an open induction may release it."""
    check_open(closed_by, trn)
    if holder != appropriate_body_id:
        held = f"appropriate body {holder} holds it" if holder else "nobody holds one"
        raise Conflict(
            f"appropriate body {appropriate_body_id} holds no open claim on teacher {trn} ({held})",
            allowed=[],
        )


@dataclass(frozen=True)
class Holding:
    """Who holds a teacher's induction (the AB that closed it, once closed), whether it is
    closed, and when it started (the school's start date, else the claim's `started_on`)."""

    holder: str | None
    closed_by: InductionOutcome | None = None
    start: date | None = None


def holding(reports: Sequence[Report]) -> Holding:
    """The holding of the induction the reports add up to."""
    now = standing(reports)
    school_start = effective(reports).start_date.value
    start = date.fromisoformat(school_start) if school_start else now.claim_started_on
    return Holding(holder=claim_holder(reports), closed_by=now.closed_by, start=start)


@dataclass(frozen=True)
class OutcomeClaim:
    """An outcome an AB asks to record."""

    trn: str
    appropriate_body_id: str
    completed_on: date
    today: date  # the recording instant's date (UTC)


def check_outcome(held: Holding, claim: OutcomeClaim) -> None:
    """Only the AB holding the induction records its outcome (403), once (409), dated
    between the induction's start and today (422)."""
    if held.holder != claim.appropriate_body_id:
        whom = f"appropriate body {held.holder} holds it" if held.holder else "no AB holds it"
        raise Forbidden(
            f"appropriate body {claim.appropriate_body_id} does not hold the induction of "
            f"teacher {claim.trn} ({whom}); only the holding AB records its outcome"
        )
    check_open(held.closed_by, claim.trn)
    _check_completed_on(claim, held.start)


def _check_completed_on(claim: OutcomeClaim, start: date | None) -> None:
    if claim.completed_on > claim.today:
        raise Invalid(
            f"completed_on {claim.completed_on} is in the future (today is {claim.today})",
            errors=[field_error("completed_on", "must not be in the future")],
        )
    if start is not None and claim.completed_on < start:
        raise Invalid(
            f"completed_on {claim.completed_on} is before the induction started ({start})",
            errors=[field_error("completed_on", f"must be on or after {start}")],
        )


def is_trn(value: str) -> bool:
    """A teacher reference number: seven digits."""
    return bool(_TRN.fullmatch(value))


def case_statuses(
    holder: str | None,
    open_discrepancies: int,
    reminded: bool,
    closed_by: InductionOutcome | None = None,
) -> list[str]:
    """The CaseStatus search-attribute values of a registration."""
    if closed_by is not None:
        return ["CLOSED", closed_by.value]
    statuses = ["CLAIMED" if holder else "AWAITING_CLAIM"]
    if open_discrepancies:
        statuses.append("DISCREPANCY")
    if reminded and not holder:
        statuses.append("REMINDED")
    return statuses
