"""Durations as ISO 8601 beside the `_days` fields (API.md v1.1)."""

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.template import Stage, TemplateDefinition
from tests.support.builders import make_template

STAGE: dict[str, Any] = {"code": "a", "name": "A", "levels": 1}


@pytest.mark.parametrize(
    ("given", "due", "reminders", "grace"),
    [
        ({}, None, [timedelta(days=2)], None),
        ({"review_due_days": 10}, timedelta(days=10), [timedelta(days=2)], None),
        (
            {"review_due": "PT90S", "review_reminder_before": ["PT30S"]},
            timedelta(seconds=90),
            [timedelta(seconds=30)],
            None,
        ),
        (
            {"review_due": "P1DT2H", "auto_unassign_after_days": 3},
            timedelta(days=1, hours=2),
            [timedelta(days=2)],
            timedelta(days=3),
        ),
        ({"review_due": "P2Y"}, timedelta(days=730), [timedelta(days=2)], None),
        ({"review_due": "PT1S"}, timedelta(seconds=1), [timedelta(days=2)], None),
    ],
)
def test_stage_deadlines_in_days_or_iso(
    given: dict[str, Any],
    due: timedelta | None,
    reminders: list[timedelta],
    grace: timedelta | None,
) -> None:
    stage = Stage.model_validate({**STAGE, **given})

    assert stage.review_due_span == due
    assert stage.review_reminder_spans == reminders
    assert stage.auto_unassign_span == grace
    again = Stage.model_validate(stage.model_dump(mode="json"))  # as stored and read back
    assert again == stage


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"review_due_days": 0}, "review_due_days"),
        ({"review_due_days": 10_000}, "review_due_days"),
        ({"review_due": "PT0S"}, "review_due"),
        ({"review_due": "P2Y1D"}, "review_due"),
        ({"review_due": "10 days"}, "review_due"),
        ({"review_due": "P"}, "review_due"),
        ({"review_due_days": 2, "review_due": "P2D"}, "review_due"),
        (
            {"review_reminder_days_before": [1], "review_reminder_before": ["PT1S"]},
            "review_reminder_before",
        ),
        ({"review_due": "P1D", "auto_unassign_after": "PT0S"}, "auto_unassign_after"),
    ],
)
def test_bad_stage_deadlines_name_the_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Stage.model_validate({**STAGE, **given})

    assert field in {str(error["loc"][0]) for error in refused.value.errors()}


def test_loq_durations_in_days_or_iso() -> None:
    body = {k: v for k, v in make_template().items() if k != "code"}
    days = TemplateDefinition.model_validate(body)
    iso = TemplateDefinition.model_validate(
        {**body, "loq_deadline": "PT60S", "loq_followup_deadline": "PT30S"}
    )

    assert days.loq_deadline_span == timedelta(days=42)
    assert days.loq_followup_deadline_span == timedelta(days=21)
    assert iso.loq_deadline_span == timedelta(seconds=60)
    assert iso.loq_followup_deadline_span == timedelta(seconds=30)
    assert iso.loq_deadline_days is None
    assert TemplateDefinition.model_validate(iso.model_dump(mode="json")) == iso
