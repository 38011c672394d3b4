"""Induction outcomes: who may record one, when, what closes, and what a late report does."""

from datetime import date

import pytest

from domain.errors import Conflict, Forbidden, Invalid, Refusal
from domain.induction import (
    ClosureField,
    InductionOutcome,
    InductionStatus,
    OutcomeClaim,
    ProgrammeType,
    Report,
    ReportKind,
    Source,
    case_statuses,
    check_claim,
    check_outcome,
    check_release,
    claim_holder,
    differences,
    effective,
    holding,
    standing,
    unclaimed_since,
)

PASSED, FAILED, RELEASED = (
    InductionOutcome.PASSED,
    InductionOutcome.FAILED,
    InductionOutcome.RELEASED,
)
TODAY = date(2026, 7, 20)
START = date(2025, 9, 1)


def school(ab: str = "ab-1", reporter: str = "school-1", start: date = START) -> Report:
    """A school's report: a school-led induction supported by `ab`."""
    return Report(
        kind=ReportKind.SCHOOL_REPORT,
        reporter=reporter,
        appropriate_body_id=ab,
        programme_type=ProgrammeType.SCHOOL_LED,
        start_date=start,
    )


def claim(ab: str, started_on: date = date(2025, 9, 3)) -> Report:
    """An AB claims (provider-led)."""
    return Report(
        kind=ReportKind.AB_CLAIM,
        reporter=ab,
        appropriate_body_id=ab,
        programme_type=ProgrammeType.PROVIDER_LED,
        started_on=started_on,
    )


def outcome(ab: str, value: InductionOutcome, on: date = date(2026, 7, 1)) -> Report:
    """The AB records an outcome."""
    return Report(
        kind=ReportKind.OUTCOME,
        reporter=ab,
        appropriate_body_id=ab,
        outcome=value,
        completed_on=on,
    )


def ask(ab: str, on: date = date(2026, 7, 1)) -> OutcomeClaim:
    return OutcomeClaim(trn="1234567", appropriate_body_id=ab, completed_on=on, today=TODAY)


def refusal_of(reports: list[Report], claim_: OutcomeClaim) -> type[Refusal] | None:
    try:
        check_outcome(holding(reports), claim_)
    except Refusal as refused:
        return type(refused)
    return None


@pytest.mark.parametrize(
    ("reports", "ab", "expected"),
    [
        pytest.param([school(), claim("ab-1")], "ab-1", None, id="holder"),
        pytest.param([school(), claim("ab-1")], "ab-2", Forbidden, id="another AB"),
        pytest.param([school()], "ab-1", Forbidden, id="nobody holds it"),
        pytest.param([], "ab-1", Forbidden, id="no registration"),
        pytest.param(
            [school(), claim("ab-1"), outcome("ab-1", RELEASED)], "ab-1", Forbidden, id="released"
        ),
        pytest.param(
            [school(), claim("ab-1"), outcome("ab-1", PASSED)], "ab-1", Conflict, id="second"
        ),
        pytest.param(
            [school(), claim("ab-1"), outcome("ab-1", FAILED)],
            "ab-2",
            Forbidden,
            id="closed/other",
        ),
        pytest.param(
            [school(), claim("ab-1"), outcome("ab-1", RELEASED), claim("ab-2")],
            "ab-2",
            None,
            id="the next holder",
        ),
    ],
)
def test_only_the_holder_records_one_outcome(
    reports: list[Report], ab: str, expected: type[Refusal] | None
) -> None:
    assert refusal_of(reports, ask(ab)) is expected


@pytest.mark.parametrize(
    ("reports", "on", "expected"),
    [
        pytest.param([school(), claim("ab-1")], START, None, id="on the start"),
        pytest.param([school(), claim("ab-1")], date(2025, 8, 31), Invalid, id="before start"),
        pytest.param([school(), claim("ab-1")], TODAY, None, id="today"),
        pytest.param([school(), claim("ab-1")], date(2026, 7, 21), Invalid, id="tomorrow"),
        # No school report: the claim's started_on is the start.
        pytest.param([claim("ab-1")], date(2025, 9, 2), Invalid, id="before the claim start"),
        pytest.param([claim("ab-1")], date(2025, 9, 3), None, id="on the claim start"),
    ],
)
def test_completed_on_lies_between_the_start_and_today(
    reports: list[Report], on: date, expected: type[Refusal] | None
) -> None:
    assert refusal_of(reports, ask("ab-1", on)) is expected


def test_the_school_start_date_wins_over_the_claims() -> None:
    reports = [school(start=date(2025, 10, 1)), claim("ab-1", started_on=date(2025, 9, 3))]
    assert holding(reports).start == date(2025, 10, 1)
    assert refusal_of(reports, ask("ab-1", date(2025, 9, 15))) is Invalid


@pytest.mark.parametrize("closing", [PASSED, FAILED])
def test_a_closing_outcome_refuses_claims_and_releases_naming_it(
    closing: InductionOutcome,
) -> None:
    reports = [school(), claim("ab-1"), outcome("ab-1", closing)]
    held = holding(reports)
    assert standing(reports).status == InductionStatus.CLOSED
    assert held.closed_by == closing
    for check, ab in ((check_claim, "ab-2"), (check_claim, "ab-1"), (check_release, "ab-1")):
        with pytest.raises(Conflict, match=closing.value):
            check(held.holder, ab, "1234567", held.closed_by)
    assert case_statuses(held.holder, 0, False, held.closed_by) == ["CLOSED", closing.value]


def test_a_released_outcome_lets_another_ab_claim_and_the_school_values_return() -> None:
    reports = [school(), claim("ab-1"), outcome("ab-1", RELEASED)]
    now = standing(reports)
    assert (now.status, now.outcome, now.recorded_by) == (InductionStatus.OPEN, RELEASED, "ab-1")
    assert claim_holder(reports) is None
    assert effective(reports).appropriate_body_id.source == Source.SCHOOL
    assert unclaimed_since(reports) is None  # no `at` in these reports; the wait restarts
    check_claim(None, "ab-2", "1234567", holding(reports).closed_by)

    reclaimed = [*reports, claim("ab-2")]
    assert standing(reclaimed).outcome is None  # a new open induction
    assert effective(reclaimed).appropriate_body_id.value == "ab-2"


def test_after_closing_reports_change_nothing_but_a_school_report_is_a_discrepancy() -> None:
    closed = [school(), claim("ab-1"), outcome("ab-1", PASSED)]
    before = effective(closed)
    late = [
        *closed,
        school(ab="ab-9", reporter="school-2", start=date(2026, 1, 1)),
        claim("ab-2"),
        Report(kind=ReportKind.MIGRATED, reporter="migration", start_date=date(2020, 1, 1)),
    ]
    assert effective(late) == before
    assert claim_holder(late) == "ab-1"
    assert standing(late).status == InductionStatus.CLOSED
    found = differences(late)
    status = found[ClosureField.INDUCTION_STATUS]
    assert (status.school_value, status.school_reporter) == ("OPEN", "school-2")
    assert (status.ab_value, status.ab_reporter) == ("PASSED", "ab-1")
    # The field differences are still the pre-closing school report against the claim.
    assert found.keys() - {ClosureField.INDUCTION_STATUS} == differences(closed).keys()


def test_no_status_discrepancy_without_a_late_school_report() -> None:
    closed = [school(), claim("ab-1"), outcome("ab-1", FAILED)]
    assert ClosureField.INDUCTION_STATUS not in differences(closed)
    released = [school(), claim("ab-1"), outcome("ab-1", RELEASED), school()]
    assert ClosureField.INDUCTION_STATUS not in differences(released)


@pytest.mark.parametrize("value", list(InductionOutcome))
def test_an_outcome_from_an_ab_that_does_not_hold_it_changes_nothing(
    value: InductionOutcome,
) -> None:
    reports = [school(), claim("ab-1")]
    ignored = [*reports, outcome("ab-2", value)]
    assert standing(ignored) == standing(reports)
    assert effective(ignored) == effective(reports)
