"""`case show`'s history counts: regular and local activities alike (decision 0090 made the
review's recordings local: they leave a marker, not an ActivityTaskScheduled event)."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from operator_cli.case_show import summarise

HISTORIES = Path(__file__).resolve().parent.parent / "replay" / "histories"


def _summary(stem: str) -> tuple[dict[str, int], dict[str, int]]:
    text = (HISTORIES / f"{stem}.json").read_text()
    history = WorkflowHistory.from_json(stem, text)
    found = summarise(list(history.events))
    return dict(found.activities), dict(found.activities_failed)


@pytest.mark.parametrize(
    ("stem", "activity"),
    [
        ("application_review_cycle_local", "record_submission"),  # local activities
        ("application_review_cycle_loq", "record_submission"),  # regular activities
    ],
)
def test_every_recording_is_counted_by_its_activity_name(stem: str, activity: str) -> None:
    activities, failed = _summary(stem)
    assert activities.get(activity, 0) >= 1
    assert "?" not in activities
    assert failed == {}
