"""Which report wins: every order of school reports, AB claims, releases and migrated data."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import permutations

import pytest

from domain.errors import Conflict
from domain.induction import (
    Difference,
    Effective,
    FieldValue,
    InductionField,
    ProgrammeType,
    Report,
    ReportKind,
    Source,
    case_statuses,
    check_claim,
    check_release,
    claim_holder,
    confirmed_only,
    differences,
    effective,
    is_trn,
    reconcile,
    unclaimed_since,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SCHOOL_LED, PROVIDER_LED = ProgrammeType.SCHOOL_LED, ProgrammeType.PROVIDER_LED
AB, PT, START = (
    InductionField.APPROPRIATE_BODY_ID,
    InductionField.PROGRAMME_TYPE,
    InductionField.START_DATE,
)


def school(ab: str, programme: ProgrammeType, start: date, reporter: str = "school-1") -> Report:
    """A school's report."""
    return Report(
        kind=ReportKind.SCHOOL_REPORT,
        reporter=reporter,
        appropriate_body_id=ab,
        programme_type=programme,
        start_date=start,
    )


def claim(ab: str, programme: ProgrammeType) -> Report:
    """An AB's claim (its own id as the AB)."""
    return Report(
        kind=ReportKind.AB_CLAIM, reporter=ab, appropriate_body_id=ab, programme_type=programme
    )


def release(ab: str) -> Report:
    """An AB ends its claim."""
    return Report(kind=ReportKind.AB_RELEASE, reporter=ab, appropriate_body_id=ab)


def migrated(**values: object) -> Report:
    """Data from the older service."""
    return Report.model_validate({"kind": ReportKind.MIGRATED, "reporter": "migration", **values})


EVENTS = {
    "S1": school("ab-a", SCHOOL_LED, date(2025, 9, 1)),
    "S2": school("ab-b", PROVIDER_LED, date(2025, 9, 8), reporter="school-2"),
    "CA": claim("ab-a", PROVIDER_LED),
    "CC": claim("ab-c", SCHOOL_LED),
    "RA": release("ab-a"),
    "M": migrated(appropriate_body_id="ab-m", programme_type=SCHOOL_LED, start_date="2024-09-01"),
}
ORDERS = list(permutations(EVENTS))


@dataclass
class Oracle:
    """The rules as SPEC §5 states them, kept as plainly as possible."""

    holder: str | None = None
    holder_values: dict[InductionField, str] = field(default_factory=dict)
    school: dict[InductionField, str] = field(default_factory=dict)
    migrated: dict[InductionField, str] = field(default_factory=dict)
    accepted: list[Report] = field(default_factory=list)

    def take(self, report: Report) -> None:
        """Apply one report as the workflow would: refused claims/releases are not stored."""
        try:
            if report.kind == ReportKind.AB_CLAIM:
                check_claim(self.holder, report.reporter, "1234567")
                self.holder = report.reporter
                self.holder_values = {AB: report.reporter, PT: str(report.programme_type)}
            elif report.kind == ReportKind.AB_RELEASE:
                check_release(self.holder, report.reporter, "1234567")
                self.holder, self.holder_values = None, {}
        except Conflict:
            return
        if report.kind == ReportKind.SCHOOL_REPORT:
            self.school = {name: v for name in InductionField if (v := report.value(name))}
        if report.kind == ReportKind.MIGRATED:
            self.migrated |= {name: v for name in InductionField if (v := report.value(name))}
        self.accepted.append(report)

    def expected(self, name: InductionField) -> FieldValue:
        """Most trusted source first: open AB claim (not for the start date), school, migrated."""
        if name in self.holder_values:
            return FieldValue(
                value=self.holder_values[name], source=Source.APPROPRIATE_BODY, confirmed=True
            )
        if name in self.school:
            return FieldValue(value=self.school[name], source=Source.SCHOOL)
        if name in self.migrated:
            return FieldValue(value=self.migrated[name], source=Source.MIGRATED)
        return FieldValue()


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(order) for order in ORDERS])
def test_precedence_holds_in_every_order(order: tuple[str, ...]) -> None:
    oracle = Oracle()
    for name in order:
        oracle.take(EVENTS[name])
        # After every step, not only the last: the effective value is right at any time.
        view = effective(oracle.accepted)
        assert claim_holder(oracle.accepted) == oracle.holder
        for fact in InductionField:
            assert view.of(fact) == oracle.expected(fact), (name, fact)
        assert view.start_date.source != Source.APPROPRIATE_BODY
        lead_provider = confirmed_only(view)
        assert all(
            lead_provider.of(f).confirmed or lead_provider.of(f) == FieldValue()
            for f in InductionField
        )
        expected_diffs = {
            f
            for f in (AB, PT)
            if oracle.holder and oracle.school and oracle.school.get(f) != oracle.holder_values[f]
        }
        assert set(differences(oracle.accepted)) == expected_diffs


def test_a_school_report_alone_is_provisional_and_used_at_once() -> None:
    view = effective([EVENTS["S1"]])

    assert view.appropriate_body_id == FieldValue(value="ab-a", source=Source.SCHOOL)
    assert view.programme_type == FieldValue(value="school_led", source=Source.SCHOOL)
    assert view.start_date == FieldValue(value="2025-09-01", source=Source.SCHOOL)
    assert confirmed_only(view) == Effective()


def test_an_ab_claim_overrides_and_confirms_but_never_sets_the_start_date() -> None:
    reports = [EVENTS["S1"], claim("ab-z", PROVIDER_LED)]

    view = effective(reports)

    assert view.appropriate_body_id == FieldValue(
        value="ab-z", source=Source.APPROPRIATE_BODY, confirmed=True
    )
    assert view.programme_type.value == "provider_led"
    assert view.programme_type.confirmed
    assert view.start_date == FieldValue(value="2025-09-01", source=Source.SCHOOL)
    assert set(differences(reports)) == {AB, PT}
    assert confirmed_only(view).start_date == FieldValue()
    assert confirmed_only(view).appropriate_body_id.value == "ab-z"


def test_a_claim_before_any_school_report_is_effective_with_nothing_to_differ_from() -> None:
    reports = [claim("ab-a", SCHOOL_LED)]

    assert effective(reports).appropriate_body_id.confirmed
    assert effective(reports).start_date == FieldValue()
    assert differences(reports) == {}
    assert unclaimed_since(reports) is None


def test_the_same_ab_amends_its_own_claim() -> None:
    reports = [claim("ab-a", SCHOOL_LED), claim("ab-a", PROVIDER_LED)]

    check_claim("ab-a", "ab-a", "1234567")
    assert effective(reports).programme_type.value == "provider_led"


def test_a_second_ab_is_refused_naming_the_holder_until_it_releases() -> None:
    with pytest.raises(Conflict, match="appropriate body ab-a holds an open claim on teacher"):
        check_claim("ab-a", "ab-b", "1234567")
    with pytest.raises(Conflict, match=r"ab-b holds no open claim .*ab-a holds it"):
        check_release("ab-a", "ab-b", "1234567")
    with pytest.raises(Conflict, match="nobody holds one"):
        check_release(None, "ab-b", "1234567")
    check_claim(None, "ab-b", "1234567")


def test_migrated_data_fills_only_what_neither_party_reported() -> None:
    old = migrated(appropriate_body_id="ab-m", start_date="2024-09-01")

    alone = effective([old])
    below_school = effective([EVENTS["S1"], old])

    assert alone.appropriate_body_id == FieldValue(value="ab-m", source=Source.MIGRATED)
    assert alone.programme_type == FieldValue()
    assert alone.start_date.value == "2024-09-01"
    assert below_school.appropriate_body_id.source == Source.SCHOOL
    assert below_school.start_date.value == "2025-09-01"
    assert confirmed_only(alone) == Effective()


def test_the_wait_for_a_claim_starts_at_the_school_report_and_again_at_a_release() -> None:
    def at(report: Report, days: int) -> Report:
        return report.model_copy(update={"at": T0 + timedelta(days=days)})

    first = at(EVENTS["S1"], 0)
    assert unclaimed_since([first]) == T0
    assert unclaimed_since([first, at(EVENTS["S2"], 3)]) == T0
    assert unclaimed_since([first, at(EVENTS["CA"], 5)]) is None
    released = [first, at(EVENTS["CA"], 5), at(EVENTS["RA"], 9)]
    assert unclaimed_since(released) == T0 + timedelta(days=9)
    assert unclaimed_since([at(EVENTS["CA"], 1), at(EVENTS["RA"], 2)]) is None
    assert unclaimed_since([at(EVENTS["M"], 1)]) is None


def _diff(name: InductionField, school_value: str, ab_value: str) -> Difference:
    return Difference(
        field=name,
        school_value=school_value,
        school_reporter="school-1",
        ab_value=ab_value,
        ab_reporter="ab-z",
    )


def test_reconcile_opens_new_resolves_gone_and_supersedes_changed() -> None:
    ab_diff, pt_diff = _diff(AB, "ab-a", "ab-z"), _diff(PT, "school_led", "provider_led")

    opened = reconcile({}, {AB: ab_diff, PT: pt_diff})
    unchanged = reconcile({AB: ab_diff, PT: pt_diff}, {AB: ab_diff, PT: pt_diff})
    agreed = reconcile({AB: ab_diff, PT: pt_diff}, {PT: pt_diff})
    changed = reconcile({AB: ab_diff}, {AB: _diff(AB, "ab-q", "ab-z")})

    assert (opened.to_open, opened.to_resolve) == ([ab_diff, pt_diff], [])
    assert (unchanged.to_open, unchanged.to_resolve) == ([], [])
    assert (agreed.to_open, agreed.to_resolve) == ([], [AB])
    assert changed.to_resolve == [AB]
    assert [d.school_value for d in changed.to_open] == ["ab-q"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1234567", True),
        ("0000001", True),
        ("123456", False),
        ("12345678", False),
        ("12a4567", False),
    ],
)
def test_a_trn_is_seven_digits(value: str, ok: bool) -> None:
    assert is_trn(value) is ok


def test_case_statuses_for_operators() -> None:
    assert case_statuses(None, 0, reminded=False) == ["AWAITING_CLAIM"]
    assert case_statuses(None, 0, reminded=True) == ["AWAITING_CLAIM", "REMINDED"]
    assert case_statuses("ab-a", 2, reminded=True) == ["CLAIMED", "DISCREPANCY"]
