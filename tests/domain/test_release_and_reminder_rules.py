"""Rules the workflow and its activity both apply: a future release, the AB-claim reminder."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Invalid
from domain.induction import reminder_due_at
from domain.outcome import ReleaseMode, check_release_at, ensure_future_release

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(seconds=-1), False),
        (timedelta(0), False),
        (timedelta(microseconds=1), True),
        (timedelta(days=30), True),
    ],
    ids=["past", "this instant", "a moment later", "next month"],
)
def test_a_release_is_scheduled_only_for_an_instant_still_to_come(
    offset: timedelta, accepted: bool
) -> None:
    release_at = NOW + offset
    if accepted:
        ensure_future_release(release_at, NOW)
        check_release_at(mode=ReleaseMode.SCHEDULED, release_at=release_at, now=NOW)
        return
    with pytest.raises(Invalid, match="release_at is in the past") as direct:
        ensure_future_release(release_at, NOW)
    with pytest.raises(Invalid, match="release_at is in the past") as via_request:
        check_release_at(mode=ReleaseMode.SCHEDULED, release_at=release_at, now=NOW)
    assert direct.value.detail == via_request.value.detail
    assert direct.value.errors == [{"field": "release_at", "message": "must be in the future"}]


@pytest.mark.parametrize("days", [1, 14, 30])
def test_the_school_is_reminded_the_configured_days_after_it_began_to_wait(days: int) -> None:
    assert reminder_due_at(NOW, days) == NOW + timedelta(days=days)
