"""GET /v1/events: the outbox in order, a stable cursor, no withheld grade, no skipped event."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from models.event import publish
from tests.api.outcome_flows import (
    ADMIN,
    INTEGRATION,
    QA,
    RELEASER,
    release_now,
    setup,
    submit_result,
)

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)


async def _all(api: httpx.AsyncClient, after: str | None = None, limit: int = 2) -> Any:
    items: list[dict[str, Any]] = []
    while True:
        query = f"?limit={limit}" + (f"&after={after}" if after else "")
        page = (await api.get(f"/v1/events{query}", headers=INTEGRATION)).json()
        items += page["items"]
        if page["next_cursor"] == after:
            return items, after
        after = page["next_cursor"]


async def test_the_feed_serves_every_event_in_order_without_withheld_grades(
    api: httpx.AsyncClient,
) -> None:
    records = await setup(api, auto_release=False)
    result = await submit_result(api, records.element_id, "DISTINCTION", sampled=True)
    await api.post(f"/v1/results/{result['id']}/qa", json={"passed": True}, headers=QA)
    await release_now(api, "result", result["id"])

    events, cursor = await _all(api)

    ours = [e for e in events if e["subject"] == result["id"]]
    assert [e["type"] for e in ours] == [
        "result.submitted",
        "result.qa_passed",
        "result.pending_release",
        "result.released",
    ]
    assert all(str(uuid.UUID(e["id"])) == e["id"] for e in events)  # opaque, not positions
    assert len({e["id"] for e in events}) == len(events)
    for event in ours[:-1]:
        assert "grade" not in event["data"]
    assert ours[-1]["data"]["grade"] == "DISTINCTION"
    assert ours[-1]["data"]["release_method"] == "MANUAL"

    again, same = await _all(api, cursor)
    assert (again, same) == ([], cursor)  # a stable cursor: nothing new, nothing repeated
    later = await submit_result(api, records.element_id)
    newer, _ = await _all(api, cursor)
    assert [e["subject"] for e in newer] == [later["id"]] * 2


async def test_a_lower_id_still_being_written_holds_back_later_events(
    api: httpx.AsyncClient, db: Engine
) -> None:
    with Session(db) as slow:
        slow.begin()
        publish(slow, type="test.slow", subject="s", at=AT, key="slow")
        slow.flush()  # id 1 taken, not committed
        with Session(db) as fast, fast.begin():
            publish(fast, type="test.fast", subject="f", at=AT, key="fast")
        held = (await api.get("/v1/events", headers=ADMIN)).json()
        assert held["items"] == []
        slow.commit()
    served = (await api.get("/v1/events", headers=ADMIN)).json()
    assert [e["type"] for e in served["items"]] == ["test.slow", "test.fast"]


async def test_only_admin_and_integration_read_the_feed(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/events", headers=RELEASER)).status_code == 403
    assert (await api.get("/v1/events")).status_code == 401
    bad = await api.get("/v1/events?after=not-a-cursor", headers=ADMIN)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "after"
