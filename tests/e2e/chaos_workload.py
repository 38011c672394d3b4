"""The chaos test's workload: review cycles with an LOQ, scheduled releases, a sync, the feed.

Each step is one request of `KeyedClient`, which only retries with its own keys; after a
lost answer (`Lost`) a step reads the state to go on.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import httpx

from tests.e2e.chaos_client import JSON, KeyedClient, Lost
from tests.support.builders import complete_answers, make_template
from tests.support.tokens import bearer

R = TypeVar("R")
TEMPLATE, SYNC_TEMPLATE = "chaos", "chaos-sync"
REVIEWER_ID = "chaos-rev"
ADMIN = bearer("chaos-admin", "admin")
REVIEWER = bearer(REVIEWER_ID, "reviewer")
ASSESSOR = bearer("chaos-assessor", "assessor")
RELEASER = bearer("chaos-releaser", "releaser")
READER = bearer("chaos-integration", "integration")
SINGLE_STAGE = [{"code": "assessment", "name": "Assessment", "levels": 1}]
GRADES = ["PASS", "MERIT", "DISTINCTION", "FAIL"]


# --- setup (before any fault) -------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What the workload runs on: published templates, a reviewer, pending-release elements."""

    elements: list[str]
    sync_applications: list[str]


async def set_up(client: KeyedClient, *, elements: int, sync_cases: int) -> Setup:
    """Templates, the reviewer, a provider that holds outcomes and its candidates' elements."""
    await client.ok("POST", "/v1/templates", ADMIN, make_template(TEMPLATE, stages=SINGLE_STAGE))
    await client.ok(
        "POST", "/v1/templates", ADMIN, make_template(SYNC_TEMPLATE, stages=SINGLE_STAGE)
    )
    grant = {"template_code": TEMPLATE, "stage": "assessment", "level": 1}
    reviewer = {"id": REVIEWER_ID, "name": "Chaos", "roles": ["reviewer"], "review_grants": [grant]}
    await client.ok("POST", "/v1/users", ADMIN, reviewer)
    holding = {"name": "Holding Ltd", "auto_release_outcomes": False}
    provider = await client.ok("POST", "/v1/providers", ADMIN, holding)
    candidates = [
        await client.ok(
            "POST",
            "/v1/candidates",
            ADMIN,
            {"name": f"Candidate {n}", "provider_id": provider["id"], "status": "IN_ASSESSMENT"},
        )
        for n in range(10)
    ]

    async def element(n: int) -> str:
        body = {
            "candidate_id": candidates[n % len(candidates)]["id"],
            "component": f"part-{n}",
            "scheduled_at": "2026-01-05T09:00:00Z",
        }
        return str((await client.ok("POST", "/v1/elements", ADMIN, body))["id"])

    made = await bounded(8, element, elements)
    synced = await bounded(4, partial(_sync_case, client), sync_cases)
    # A new version of the sync template's checks: the sync brings the cases up to it.
    newer = make_template(SYNC_TEMPLATE, stages=SINGLE_STAGE)
    for section in newer["sections"]:
        section["checks"] = [*section["checks"], "Checked against the register"]
    await client.ok("POST", "/v1/templates", ADMIN, newer)
    return Setup(elements=made, sync_applications=synced)


async def _sync_case(client: KeyedClient, n: int) -> str:
    """A submitted application nobody reviews: its assessment stays NOT_STARTED."""
    applicant = bearer(f"sync-applicant-{n}", "applicant")
    created = await client.ok(
        "POST", "/v1/applications", applicant, {"template_code": SYNC_TEMPLATE}
    )
    application_id = str(created["id"])
    for element, value in complete_answers().items():
        await client.write(
            f"/v1/applications/{application_id}/responses/{element}", applicant, {"value": value}
        )
    path = f"/v1/applications/{application_id}/submit"
    await client.ok("POST", path, applicant, command=True)
    return application_id


async def bounded(limit: int, job: Callable[[int], Awaitable[R]], count: int) -> list[R]:
    """`job(0)` … `job(count - 1)` with at most `limit` at once; their results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(n: int) -> R:
        async with gate:
            return await job(n)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


# --- the review cycle with an LOQ ----------------------------------------------------------


async def review_cycle(client: KeyedClient, n: int) -> str:
    """Draft, submit, review, LOQ, answer, resubmit, re-review, CONFORM: COMPLETED."""
    applicant_id = f"applicant-{n}"
    applicant = bearer(applicant_id, "applicant")
    application_id = await _draft(client, applicant_id)
    base = f"/v1/applications/{application_id}"
    for element, value in complete_answers().items():
        await client.write(f"{base}/responses/{element}", applicant, {"value": value})
    await _submit(client, applicant, application_id)
    row = await client.until(f"{base}/assignments", REVIEWER, lambda page: bool(page["items"]))
    assignment = f"/v1/assignments/{row['items'][0]['id']}"
    await _command(client, f"{assignment}/self-assign", REVIEWER, lambda: _assigned(client, base))
    review_id = await _start_review(client, base, assignment)
    review = await client.ok("GET", f"/v1/reviews/{review_id}", REVIEWER)
    for response in review["responses"]:
        decision: JSON = {"decision": "APPROVE"}
        if response["element_code"] == "full_name":
            decision = {"decision": "DECLINE", "failure_reason": "id_mismatch", "comment": "ID?"}
        await client.write(
            f"/v1/reviews/{review_id}/responses/{response['target_id']}", REVIEWER, decision
        )
    await _submit_review(client, base, review_id, "LIST_OF_QUESTIONS", "CHANGES_REQUIRED")
    await client.write(f"{base}/responses/full_name", applicant, {"value": f"Ada King {n}"})
    await _submit(client, applicant, application_id)
    assert await _start_review(client, base, assignment) == review_id  # a review keeps its id
    review = await client.ok("GET", f"/v1/reviews/{review_id}", REVIEWER)
    for target in review["missing"]:
        await client.write(
            f"/v1/reviews/{review_id}/responses/{target}", REVIEWER, {"decision": "APPROVE"}
        )
    await _submit_review(client, base, review_id, "CONFORM", "COMPLETED")
    client.counters.marks["cycles"] = time.monotonic()
    return application_id


async def _draft(client: KeyedClient, applicant_id: str) -> str:
    applicant = bearer(applicant_id, "applicant")
    try:
        created = await client.ok(
            "POST", "/v1/applications", applicant, {"template_code": TEMPLATE}
        )
        return str(created["id"])
    except Lost:
        # The draft was made: find it by its applicant (each cycle has its own).
        drafts = await client.ok("GET", "/v1/applications?status=DRAFT&limit=500", REVIEWER)
        (mine,) = [a["id"] for a in drafts["items"] if a["applicant_id"] == applicant_id]
        return str(mine)


async def _command(
    client: KeyedClient,
    path: str,
    who: dict[str, str],
    read: Callable[[], Awaitable[JSON]],
    body: JSON | None = None,
) -> JSON:
    """A keyed workflow command; after a lost answer, `read` tells where the case stands."""
    try:
        return await client.ok("POST", path, who, body, command=True)
    except Lost:
        return await read()


async def _submit(client: KeyedClient, applicant: dict[str, str], application_id: str) -> None:
    base = f"/v1/applications/{application_id}"
    answer = await _command(
        client, f"{base}/submit", applicant, lambda: client.ok("GET", base, applicant)
    )
    assert answer["status"] == "SUBMITTED", answer


async def _assigned(client: KeyedClient, base: str) -> JSON:
    page = await client.ok("GET", f"{base}/assignments", REVIEWER)
    row: JSON = page["items"][0]
    return row


async def _start_review(client: KeyedClient, base: str, assignment: str) -> str:
    started = await _command(
        client, f"{assignment}/reviews", REVIEWER, lambda: _assigned(client, base)
    )
    review_id = started["review_id"]
    assert isinstance(review_id, str), started
    return review_id


async def _submit_review(
    client: KeyedClient, base: str, review_id: str, decision: str, then: str
) -> None:
    await _command(
        client,
        f"/v1/reviews/{review_id}/submit",
        REVIEWER,
        lambda: client.ok("GET", base, REVIEWER),
        {"decision": decision},
    )
    shown = await client.ok("GET", base, REVIEWER)
    assert shown["status"] == then, (decision, shown)


# --- outcomes: single scheduled releases and a scheduled batch ------------------------------


@dataclass
class Releases:
    """The results the workload submitted and how each is to be released."""

    singles: list[str] = field(default_factory=list)
    batched: list[str] = field(default_factory=list)
    batch_id: str | None = None


async def release_outcomes(
    client: KeyedClient, elements: list[str], *, singles: int, batched: int, lead_s: float
) -> Releases:
    """Results on the elements: `singles` scheduled one by one, `batched` as one batch."""
    made = Releases()

    async def single(n: int) -> None:
        result_id = await _submit_result(client, elements[n % len(elements)], GRADES[n % 4])
        await _schedule([result_id], client, lead_s)
        made.singles.append(result_id)

    async def in_batch(n: int) -> None:
        made.batched.append(await _submit_result(client, elements[n % len(elements)], "PASS"))

    async def batch() -> None:
        await bounded(4, in_batch, batched)
        made.batch_id = await _schedule(made.batched, client, lead_s)

    await asyncio.gather(bounded(4, single, singles), batch())
    client.counters.marks["releases scheduled"] = time.monotonic()
    await client.until(
        f"/v1/outcome-releases/batches/{made.batch_id}",
        RELEASER,
        lambda progress: progress["status"] == "COMPLETED",
    )
    for result_id in [*made.singles, *made.batched]:
        await client.until(
            f"/v1/results/{result_id}", RELEASER, lambda view: view["status"] == "RELEASED"
        )
    client.counters.marks["released"] = time.monotonic()
    return made


async def _submit_result(client: KeyedClient, element_id: str, grade: str) -> str:
    body = {"element_id": element_id, "grade": grade, "sampled_for_qa": False}
    submitted = await client.ok("POST", "/v1/results", ASSESSOR, body, command=True)
    assert submitted["status"] == "PENDING_RELEASE", submitted
    return str(submitted["id"])


async def _schedule(result_ids: list[str], client: KeyedClient, lead_s: float) -> str | None:
    """Schedule a release `lead_s` ahead: answered per outcome (≤ 100) or as a batch id.

    When the retries outlast the instant and the service says it is now past, the first
    attempt never took effect (a retry of one that did gets its answer): the client plans
    a new instant, a new request with a new key.
    """
    refs = [{"kind": "result", "id": i} for i in result_ids]
    while True:
        release_at = (datetime.now(UTC) + timedelta(seconds=lead_s)).isoformat()
        body = {"outcomes": refs, "mode": "scheduled", "release_at": release_at}
        response = await client.send("POST", "/v1/outcome-releases", RELEASER, body, command=True)
        if not _too_late(response):
            break
        client.counters.rescheduled += 1
    assert response.status_code in (200, 202), response.text
    answer: JSON = response.json()
    if "batch_id" in answer:
        return str(answer["batch_id"])
    assert [item["status"] for item in answer["results"]] == [200] * len(result_ids), answer
    return None


def _too_late(response: httpx.Response) -> bool:
    """The instant passed before the first attempt took effect: refused as a whole (a batch)
    or for each outcome of a multi-status answer (one by one)."""
    if response.status_code == 422:
        return "in the past" in response.text
    if response.status_code != 200 or "results" not in (answer := response.json()):
        return False
    return all(
        item["status"] == 422 and "in the past" in str(item["detail"]) for item in answer["results"]
    )


# --- the check-list sync and the event feed -----------------------------------------------


async def checklist_sync(client: KeyedClient, started: asyncio.Event | None = None) -> JSON:
    """A sync of the sync template's cases, followed to its end (`started` once it runs)."""
    body = {"template_code": SYNC_TEMPLATE}
    sync = await client.ok("POST", "/v1/checklist-syncs", ADMIN, body, command=True)
    if started is not None:
        started.set()
    ended = await client.until(
        f"/v1/checklist-syncs/{sync['id']}", ADMIN, lambda shown: shown["status"] != "RUNNING"
    )
    client.counters.marks["sync"] = time.monotonic()
    return ended


@dataclass
class Feed:
    """What a consumer of GET /v1/events read, page by page."""

    ids: list[str] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)


async def follow_events(client: KeyedClient, feed: Feed, stop: asyncio.Event) -> None:
    """Poll the feed with its cursor until `stop`, then read it to its end."""
    cursor: str | None = None
    empty_after_stop = 0
    while empty_after_stop < 2:
        path = "/v1/events?limit=1000" + (f"&after={cursor}" if cursor else "")
        page = await client.ok("GET", path, READER)
        feed.ids += [event["id"] for event in page["items"]]
        cursor = page["next_cursor"]
        feed.cursors.append(cursor)
        if stop.is_set():
            empty_after_stop = 0 if page["items"] else empty_after_stop + 1
        if not page["items"]:
            await asyncio.sleep(0.5)
