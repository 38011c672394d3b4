"""Every list refuses a cursor it did not make with 422 naming the field, never a 500."""

import base64
import json
from typing import Any

import httpx
import pytest

from tests.api.flows import ADMIN, ready_draft
from tests.api.review_flows import submitted_case
from tests.support.tokens import bearer

ALICE = bearer("alice", "applicant")
STAFF = bearer("staff-1", "admin", "reviewer", "releaser", "integration")


def _b64(raw: str | bytes) -> str:
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _pair(first: object, second: object) -> str:
    return _b64(json.dumps([first, second]))


AT = "2026-01-05T09:00:00+00:00"
GARBAGE = {
    "not-base64": "%25%25%25",
    "words": "not-a-cursor",
    "raw-nul": "%00",
    "nul-bytes": _b64(b"\x00\x00\x00"),
    "not-utf8": _b64(b"\xff\xfe\xfd"),
    "not-json": _b64("[2026"),
    "an-object": _b64('{"at": "2026-01-05"}'),
    "one-item": _b64(json.dumps([AT])),
    "three-items": _b64(json.dumps([AT, "a", "b"])),
    "number-first": _pair(20260105, "a"),
    "bad-instant": _pair("2026-13-45T99:00:00+00:00", "a"),
    "instant-before-year-1": _pair("0001-01-01T00:00:00+05:00", "a"),
    "instant-without-zone": _pair("2026-01-05T09:00:00", "a"),
    "huge-number-id": _b64(f'["{AT}", {"9" * 40}]'),
    "infinite-id": _b64(f'["{AT}", 1e999]'),
    "nul-in-id": _pair(AT, "a\x00b"),
    "lone-surrogate-id": _b64(f'["{AT}", "\\ud800"]'),
    "empty-id": _pair(AT, ""),
    "deeply-nested": _b64("[" * 600 + "]" * 600),
    "too-long": "A" * 5000,
}
EVENT_GARBAGE = {
    **GARBAGE,
    "negative": _b64("ev:-1"),
    "beyond-bigint": _b64(f"ev:{2**63}"),
    "huge": _b64("ev:" + "9" * 400),
    "exponent": _b64("ev:1e3"),
    "spaces": _b64("ev: 1"),
    "unicode-digits": _b64("ev:١٢"),
    "two-colons": _b64("ev:1:2"),
    "other-prefix": _b64("ab:1"),
}
LISTS = [
    "/v1/actions",
    "/v1/applications",
    "/v1/results",
    "/v1/certifications",
    "/v1/outcome-releases/pending",
    "/v1/slas",
    "/v1/reports/pass-fail",
    "/v1/reports/first-time-pass",
    "/v1/reports/outcome-releases",
    "/v1/reports/result-tracking",
    "/v1/reports/sla",
]


def _assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, (response.request.url, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    # The type refuses what no cursor can be ("query.cursor"), the decoder the rest ("cursor").
    named = {e["field"].removeprefix("query.") for e in response.json()["errors"]}
    assert named == {field}


@pytest.mark.parametrize("cursor", GARBAGE.values(), ids=GARBAGE.keys())
async def test_a_garbage_cursor_is_422_on_every_list(api: httpx.AsyncClient, cursor: str) -> None:
    application_id = await ready_draft(api, ALICE)
    case_lists = [
        f"/v1/applications/{application_id}/history",
        f"/v1/applications/{application_id}/assignments",
    ]
    for path in LISTS + case_lists:
        _assert_refused(await api.get(f"{path}?cursor={cursor}", headers=STAFF), "cursor")
    own_history = f"/v1/applications/{application_id}/history?cursor={cursor}"
    _assert_refused(await api.get(own_history, headers=ALICE), "cursor")


@pytest.mark.parametrize("cursor", EVENT_GARBAGE.values(), ids=EVENT_GARBAGE.keys())
async def test_a_garbage_event_cursor_is_422_naming_after(
    api: httpx.AsyncClient, cursor: str
) -> None:
    _assert_refused(await api.get(f"/v1/events?after={cursor}", headers=ADMIN), "after")


async def test_the_largest_event_position_is_a_valid_cursor(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/v1/events?after={_b64(f'ev:{2**63 - 1}')}", headers=ADMIN)

    assert response.status_code == 200
    assert response.json()["items"] == []


async def _walk(api: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[list[Any]]:
    pages: list[list[Any]] = []
    cursor = None
    while True:
        query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
        response = await api.get(f"{path}{query}", headers=headers)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        if (cursor := response.json()["next_cursor"]) is None:
            return pages


async def test_history_and_assignments_page_with_limit_and_cursor(api: httpx.AsyncClient) -> None:
    application_id = await submitted_case(api, ALICE, reviewers=("rev-1", "rev-2"))
    base = f"/v1/applications/{application_id}"

    history = await _walk(api, f"{base}/history", STAFF)
    own = await _walk(api, f"{base}/history", ALICE)
    assignments = await _walk(api, f"{base}/assignments", STAFF)

    assert [[e["action"] for e in page] for page in history] == [
        ["created"],
        ["submitted"],
        ["level_reached"],
    ]
    assert [[e["action"] for e in page] for page in own] == [["created"], ["submitted"]]
    assert [[r["reviewer_id"] for r in page] for page in assignments] == [["rev-1"], ["rev-2"]]
    unknown = _pair(AT, "no-such-assignment")
    _assert_refused(await api.get(f"{base}/assignments?cursor={unknown}", headers=STAFF), "cursor")
