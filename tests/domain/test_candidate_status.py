"""A candidate's status change and the work waiting on them: every pair of statuses, and
how an SLA's log catches up with its candidate."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from domain.candidate import WorkChange, work_change
from domain.outcome import CandidateStatus
from domain.sla import SlaEvent, SlaEventKind, catch_up

S = CandidateStatus
ACTIVE = {S.IN_ASSESSMENT, S.COMPLETED, S.CERTIFIED}
INACTIVE = {S.ON_PROGRAMME, S.BACK_INTO_LEARNING, S.RETAKE_REVIEW, S.WITHDRAWN}
T0 = datetime(2026, 3, 1, tzinfo=UTC)
START, PAUSE, RESUME, STOP = (
    SlaEventKind.START,
    SlaEventKind.PAUSE,
    SlaEventKind.RESUME,
    SlaEventKind.STOP,
)


def expected_change(before: CandidateStatus, after: CandidateStatus) -> WorkChange | None:
    """SPEC §3/§4 read afresh: work pauses while the candidate is not active."""
    if before in ACTIVE and after in INACTIVE:
        return WorkChange.PAUSE
    if before in INACTIVE and after in ACTIVE:
        return WorkChange.RESUME
    return None


def test_every_status_is_either_active_or_inactive() -> None:
    assert set(CandidateStatus) == ACTIVE | INACTIVE
    assert not ACTIVE & INACTIVE


@pytest.mark.parametrize(
    ("before", "after"),
    [pytest.param(b, a, id=f"{b}-{a}") for b, a in product(CandidateStatus, repeat=2)],
)
def test_every_status_pair_pauses_resumes_or_leaves_the_work(
    before: CandidateStatus, after: CandidateStatus
) -> None:
    assert work_change(before, after) == expected_change(before, after)


@pytest.mark.parametrize(
    ("steps", "active", "expected"),
    [
        pytest.param([], False, None, id="not-started"),
        pytest.param([START], True, None, id="running-active"),
        pytest.param([START], False, PAUSE, id="running-inactive"),
        pytest.param([START, PAUSE], False, None, id="paused-inactive"),
        pytest.param([START, PAUSE], True, RESUME, id="paused-active"),
        pytest.param([START, PAUSE, RESUME], True, None, id="resumed-active"),
        pytest.param([START, PAUSE, RESUME], False, PAUSE, id="resumed-inactive"),
        pytest.param([START, STOP], False, None, id="stopped-inactive"),
        pytest.param([START, PAUSE, STOP], True, None, id="stopped-active"),
    ],
)
def test_an_sla_catches_up_with_its_candidate_once(
    steps: list[SlaEventKind], active: bool, expected: SlaEventKind | None
) -> None:
    log = [SlaEvent(kind, T0 + timedelta(hours=n)) for n, kind in enumerate(steps)]
    assert catch_up(log, candidate_active=active) == expected
    if expected is not None:  # a second signal finds nothing left to do
        after = [*log, SlaEvent(expected, T0 + timedelta(days=1))]
        assert catch_up(after, candidate_active=active) is None
