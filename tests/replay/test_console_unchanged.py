"""Patch console-skip-unchanged (decision 0100): the same recorded cycle upserts less."""

import json
from collections import Counter
from pathlib import Path

HISTORIES = Path(__file__).parent / "histories"


def _events(stem: str) -> Counter[str]:
    events = json.loads((HISTORIES / f"{stem}.json").read_text())["events"]
    return Counter(event["eventType"] for event in events)


def test_an_unchanged_case_upserts_no_search_attributes() -> None:
    before = _events("application_review_cycle_local")
    after = _events("application_review_cycle_console_unchanged")

    upserts = "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"
    updated = "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED"
    assert after[updated] == before[updated]  # the same cycle, the same updates
    assert after[upserts] < before[upserts]
