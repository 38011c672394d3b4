"""Report rules as full tables: who reads which report, what counts as a pass, rates,
windows, zones, CSV cells that cannot run as formulas, and first attempts (against a
brute-force oracle)."""

import itertools
import random
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.access import Principal, Role
from domain.errors import Invalid
from domain.outcome import Grade, OutcomeKind
from domain.report import (
    FORMULA_TRIGGERS,
    Attempt,
    ReportName,
    check_window,
    counts_as_pass,
    csv_cell,
    first_attempts,
    may_read,
    rate,
    report_zone,
)

# Written out here, not taken from the code under test, so a role added or moved breaks
# the table below instead of silently widening access.
INTERNAL = {
    Role.ADMIN,
    Role.REVIEWER,
    Role.ASSIGNER,
    Role.ASSESSOR,
    Role.QA,
    Role.RELEASER,
    Role.AWARDING_ORG,
    Role.INTEGRATION,
}
SCOPED = {Role.CANDIDATE, Role.PROVIDER, Role.EMPLOYER}
NO_OUTCOMES = {Role.APPLICANT, Role.SCHOOL, Role.APPROPRIATE_BODY, Role.LEAD_PROVIDER}
OUTCOME_REPORTS = {
    ReportName.PASS_FAIL,
    ReportName.FIRST_TIME_PASS,
    ReportName.OUTCOME_RELEASES,
    ReportName.RESULT_TRACKING,
}


def test_the_role_table_covers_every_role_once() -> None:
    assert set(Role) == INTERNAL | SCOPED | NO_OUTCOMES
    assert len(INTERNAL) + len(SCOPED) + len(NO_OUTCOMES) == len(Role)
    assert OUTCOME_REPORTS | {ReportName.SLA} == set(ReportName)


def _expected_read(role: Role, name: ReportName, org: str | None) -> bool:
    if role in INTERNAL:
        return True
    if role in SCOPED and org is not None:
        return name in OUTCOME_REPORTS
    return False


@pytest.mark.parametrize("org", [None, "org-1"])
@pytest.mark.parametrize("name", list(ReportName))
@pytest.mark.parametrize("role", list(Role))
def test_may_read(role: Role, name: ReportName, org: str | None) -> None:
    who = Principal(sub="u", roles=frozenset({role}), org=org)
    assert may_read(who, name) is _expected_read(role, name, org)


@pytest.mark.parametrize(
    ("roles", "org", "readable"),
    [
        # an internal role wins over an external one, with or without an org
        ({Role.ADMIN, Role.PROVIDER}, "org-1", set(ReportName)),
        ({Role.QA, Role.CANDIDATE}, None, set(ReportName)),
        # an outcome-less role adds nothing to a scoped one, and vice versa
        ({Role.PROVIDER, Role.SCHOOL}, "org-1", OUTCOME_REPORTS),
        ({Role.SCHOOL, Role.APPLICANT}, "org-1", set()),
        ({Role.EMPLOYER, Role.LEAD_PROVIDER}, None, set()),
        # no role at all
        (set(), "org-1", set()),
        (set(), None, set()),
    ],
)
def test_may_read_with_several_roles(
    roles: set[Role], org: str | None, readable: set[ReportName]
) -> None:
    who = Principal(sub="u", roles=frozenset(roles), org=org)
    assert {name for name in ReportName if may_read(who, name)} == readable


PASSES: dict[Grade, bool | None] = {
    Grade.PASS: True,
    Grade.MERIT: True,
    Grade.DISTINCTION: True,
    Grade.FAIL: False,
    Grade.VOID: None,
}


def test_every_grade_has_a_count_rule() -> None:
    assert set(PASSES) == set(Grade)


@pytest.mark.parametrize("grade", list(Grade))
def test_counts_as_pass(grade: Grade) -> None:
    assert counts_as_pass(grade) is PASSES[grade]


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (0, 0, None),
        (3, 0, None),
        (0, 5, 0.0),
        (5, 5, 1.0),
        (1, 2, 0.5),
        (1, 3, 0.3333),
        (2, 3, 0.6667),
        (1, 7, 0.1429),
        (1, 8, 0.125),
        (999, 1000, 0.999),
        (99_999, 100_000, 1.0),  # rounded to 4 places
        (1, 100_000, 0.0),
    ],
)
def test_rate(part: int, whole: int, expected: float | None) -> None:
    assert rate(part, whole) == expected


A = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("from_at", "to_at", "ok"),
    [
        (None, None, True),
        (A, None, True),
        (None, A, True),
        (A, A + timedelta(microseconds=1), True),
        (A, A + timedelta(days=31), True),
        (A, A, False),
        (A, A - timedelta(microseconds=1), False),
        (A, A - timedelta(days=1), False),
        # the same instant written in two zones is still an empty window
        (A, A.astimezone(LONDON), False),
        (A, A.astimezone(timezone(timedelta(hours=-5))), False),
        (A.astimezone(LONDON), A + timedelta(seconds=1), True),
    ],
)
def test_check_window(from_at: datetime | None, to_at: datetime | None, ok: bool) -> None:
    if ok:
        check_window(from_at, to_at)
        return
    with pytest.raises(Invalid) as refused:
        check_window(from_at, to_at)
    assert refused.value.errors == [{"field": "to", "message": "must be after from"}]


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Etc/GMT+1"]
)
def test_report_zone_knows_iana_names(name: str) -> None:
    assert report_zone(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "Mars/Olympus",
        "europe/london",
        "Europe/London/",
        "Europe",  # a folder of zones, not a zone
        "UTC+1",
        "../etc/passwd",
        "/etc/localtime",
        "Europe/../Europe/London",
        "zone.tab",
        "\x00",
        "x" * 300,
    ],
)
def test_report_zone_refuses_anything_else(name: str) -> None:
    with pytest.raises(Invalid) as refused:
        report_zone(name)
    assert refused.value.errors is not None
    assert [error["field"] for error in refused.value.errors] == ["tz"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (42, "42"),
        (-7, "-7"),  # a number, not a formula: no apostrophe
        (0.5, "0.5"),
        (-0.25, "-0.25"),
        (1e-05, "1e-05"),
        (date(2026, 3, 29), "2026-03-29"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "2026-03-29T01:30:00+00:00"),
        (datetime(2026, 3, 29, 2, 30, 0, 5, tzinfo=LONDON), "2026-03-29T02:30:00.000005+01:00"),
        (Grade.MERIT, "MERIT"),
        ("", ""),
        ("Ada Apprentice", "Ada Apprentice"),
        ("  indented", "  indented"),
        ("a=b", "a=b"),
        ("x-1", "x-1"),
        ("mail@example.org", "mail@example.org"),
        ("ends with |", "ends with |"),
        ("line\nbreak", "line\nbreak"),
    ],
)
def test_csv_cell_values(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n", "|"]  # as docs/reports.md lists them
FORMULAS = ["", "1+1", "SUM(A1:A9)", "cmd|' /C calc'!A0"]


def test_the_formula_triggers_are_the_documented_ones() -> None:
    assert set(FORMULA_TRIGGERS) == set(TRIGGERS)


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("rest", FORMULAS)
def test_csv_cell_neutralises_a_formula(trigger: str, rest: str) -> None:
    text = trigger + rest
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    "lead", [" ", "   ", " \t", "\t ", "\r\n  ", "\u00a0", "\u3000", "\u2003 "]
)
@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "|"])
@pytest.mark.parametrize("rest", FORMULAS)
def test_csv_cell_neutralises_a_formula_after_leading_blanks(
    lead: str, trigger: str, rest: str
) -> None:
    text = lead + trigger + rest
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("lead", [" ", "   "])
@pytest.mark.parametrize("trigger", ["\t", "\r", "\n"])
def test_csv_cell_neutralises_a_tab_or_line_break_after_spaces(lead: str, trigger: str) -> None:
    # docs/reports.md and decision 0060: "a tab or a line break, even after spaces"
    text = lead + trigger + "SUM(A1:A9)"
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("number", ["-1", "+44 20 7946 0000", "-0.5"])
def test_csv_cell_neutralises_numbers_held_as_text(number: str) -> None:
    # a phone number or signed amount held as text is still text to a spreadsheet
    assert csv_cell(number) == "'" + number


# --- first attempts ----------------------------------------------------------------

T = datetime(2026, 3, 1, 9, tzinfo=UTC)
R, C = OutcomeKind.RESULT, OutcomeKind.CERTIFICATION


def attempt(
    id: str,
    *,
    kind: OutcomeKind = R,
    candidate: str = "c1",
    component: str | None = "practical",
    grade: Grade = Grade.PASS,
    minutes: int = 0,
) -> Attempt:
    if kind == C:
        component = None
    return Attempt(id, kind, candidate, component, grade, T + timedelta(minutes=minutes))


FIRST_CASES: list[tuple[str, list[Attempt], set[str]]] = [
    ("nothing", [], set()),
    ("one", [attempt("a")], {"a"}),
    ("a lone void is no attempt", [attempt("v", grade=Grade.VOID)], set()),
    (
        "an earlier void does not make the next try a second one",
        [attempt("v", grade=Grade.VOID, minutes=0), attempt("a", minutes=5)],
        {"a"},
    ),
    (
        "a resit is a second attempt, whatever its grade",
        [attempt("fail", grade=Grade.FAIL, minutes=0), attempt("resit", minutes=60)],
        {"fail"},
    ),
    (
        "the earliest wins even when given last",
        [attempt("late", minutes=60), attempt("mid", minutes=30), attempt("early", minutes=1)],
        {"early"},
    ),
    (
        "per component",
        [
            attempt("p1", component="practical", minutes=0),
            attempt("p2", component="practical", minutes=10),
            attempt("t1", component="theory", minutes=20),
        ],
        {"p1", "t1"},
    ),
    (
        "per kind: a certification is not a result's second try",
        [attempt("r", kind=R, minutes=10), attempt("c", kind=C, minutes=0)],
        {"r", "c"},
    ),
    (
        "certifications are keyed without a component",
        [attempt("c1", kind=C, minutes=0), attempt("c2", kind=C, minutes=5)],
        {"c1"},
    ),
    (
        "a result without a component is its own key",
        [attempt("none", component=None, minutes=5), attempt("p", minutes=0)],
        {"none", "p"},
    ),
    (
        "per candidate",
        [attempt("x", candidate="c1", minutes=9), attempt("y", candidate="c2", minutes=0)],
        {"x", "y"},
    ),
    (
        "a tie on the submission instant goes to the smaller id",
        [attempt("b", minutes=0), attempt("a", minutes=0), attempt("c", minutes=0)],
        {"a"},
    ),
    (
        "a void ties and loses nothing",
        [attempt("a", grade=Grade.VOID), attempt("b"), attempt("c")],
        {"b"},
    ),
    (
        "an earlier time beats a smaller id",
        [attempt("a", minutes=1), attempt("z", minutes=0)],
        {"z"},
    ),
    (
        "every passing grade and a fail alike can be a first attempt",
        [
            attempt("m", component="m", grade=Grade.MERIT),
            attempt("d", component="d", grade=Grade.DISTINCTION),
            attempt("f", component="f", grade=Grade.FAIL),
        ],
        {"m", "d", "f"},
    ),
]


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [pytest.param(given_, expected, id=name) for name, given_, expected in FIRST_CASES],
)
def test_first_attempts(attempts: list[Attempt], expected: set[str]) -> None:
    assert first_attempts(attempts) == expected
    for order in itertools.permutations(attempts):
        assert first_attempts(order) == expected
    assert first_attempts(iter(attempts)) == expected  # any iterable, read once


def oracle(attempts: list[Attempt]) -> set[str]:
    """By definition: a non-void attempt with no earlier non-void attempt of its key."""

    def key(a: Attempt) -> tuple[OutcomeKind, str, str | None]:
        return a.kind, a.candidate_id, a.component

    return {
        a.id
        for a in attempts
        if a.grade != Grade.VOID
        and not any(
            b.grade != Grade.VOID
            and key(b) == key(a)
            and (b.submitted_at, b.id) < (a.submitted_at, a.id)
            for b in attempts
        )
    }


@st.composite
def attempt_sets(draw: st.DrawFn) -> list[Attempt]:
    """Outcomes with unique ids, few candidates, components and instants (so keys repeat
    and submission times tie)."""
    ids = draw(st.lists(st.text("abcdef", min_size=1, max_size=3), unique=True, max_size=25))
    attempts = []
    for id_ in ids:
        kind = draw(st.sampled_from(OutcomeKind))
        component = None if kind == C else draw(st.sampled_from(["practical", "theory", None]))
        attempts.append(
            Attempt(
                id=id_,
                kind=kind,
                candidate_id=draw(st.sampled_from(["c1", "c2", "c3"])),
                component=component,
                grade=draw(st.sampled_from(Grade)),
                submitted_at=T + timedelta(minutes=draw(st.integers(0, 4))),
            )
        )
    return attempts


@given(attempt_sets(), st.randoms(use_true_random=False))
def test_first_attempts_match_the_definition(
    attempts: list[Attempt], shuffle: random.Random
) -> None:
    found = first_attempts(attempts)
    assert found == oracle(attempts)

    # one first attempt per key that has any non-void attempt, and never a void
    keys = {(a.kind, a.candidate_id, a.component) for a in attempts if a.grade != Grade.VOID}
    by_id = {a.id: a for a in attempts}
    assert len(found) == len(keys)
    assert all(by_id[i].grade != Grade.VOID for i in found)

    # the order the outcomes arrive in does not matter
    shuffled = list(attempts)
    shuffle.shuffle(shuffled)
    assert first_attempts(shuffled) == found
