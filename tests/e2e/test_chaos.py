"""Chaos: SIGKILL the worker, the API, PostgreSQL and Temporal in turn under a workload.

The stack is `cli.py run`, whose supervisor restarts whatever dies; the test restarts
nothing. The clients only retry with their own Idempotency-Keys. Afterwards every case is
finished, PostgreSQL holds exactly the rows the workload asked for, and the event feed
read through the faults is the outbox, in order, with no gap.
"""

import asyncio
import contextlib
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import Connection
from temporalio.client import Client

from api.routes.event import decode
from core.db import make_engine
from tests.e2e import chaos_census as census
from tests.e2e import chaos_workload as load
from tests.e2e.chaos_client import JSON, Counters, KeyedClient
from tests.e2e.conftest import kill_everything_under, start_stack, stop, tree

pytestmark = pytest.mark.e2e

CYCLES, SINGLES, BATCHED, SYNC_CASES = 20, 100, 150, 10
ELEMENTS = 25  # each holds ten results: its SLA stops at the first release
FAULTS = ("worker", "api", "postgresql", "temporal")
FIRST_FAULT_AFTER, BETWEEN_FAULTS = 40, 50  # workflow commands done before each fault
RECOVERY_LIMIT_S = 90.0
WORKLOAD_LIMIT_S = 300.0  # a guard against a hang, not a measure


@dataclass(frozen=True)
class Recovery:
    """How one fault healed, in seconds from the kill."""

    part: str
    at_s: float  # the kill, from the start of the workload
    in_flight: int  # requests of the workload waiting for their answer then
    restarted_s: float  # a new process of the part was running
    ready_s: float  # /readyz answered 200 to a request sent after that
    first_success_s: float  # a fresh workflow command sent after that succeeded
    old_pid: int
    new_pid: int


class Stack:
    """A `cli.py run` on free ports with a data directory of its own, and its parts."""

    def __init__(self, data: Path, env: dict[str, str], log: Path) -> None:
        self.data, self.log = data, log
        self.runner, self.base = start_stack(data, env, log)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def part(self, name: str) -> psutil.Process | None:
        """The live process of one part of the stack."""
        if name == "postgresql":
            with contextlib.suppress(OSError, ValueError, psutil.Error):
                pid = int((self.data / "pg" / "postmaster.pid").read_text().split()[0])
                return psutil.Process(pid)
            return None
        marker = {"worker": "worker.py", "api": "api.app:app", "temporal": "start-dev"}[name]
        for child in tree(self.runner.pid)[1:]:
            with contextlib.suppress(psutil.Error):
                if marker in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                    return child
        return None

    def database_url(self) -> str:
        worker = self.part("worker")
        assert worker is not None, self.tail()
        return str(worker.environ()["DATABASE_URL"])

    def close(self) -> None:
        stop(self.runner, signal.SIGINT)
        kill_everything_under(self.data)


async def _ready_after(base: str, instant: float) -> float:
    """When /readyz first answered 200 to a request sent after `instant`."""
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        while time.monotonic() - instant < RECOVERY_LIMIT_S:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    return time.monotonic()
            await asyncio.sleep(0.2)
    raise AssertionError(f"/readyz not 200 within {RECOVERY_LIMIT_S} s of the restart")


async def _restarted(stack: Stack, name: str, old_pid: int, killed: float) -> psutil.Process:
    """The part's next process, once the supervisor has started it."""
    while (reborn := stack.part(name)) is None or reborn.pid == old_pid:
        assert time.monotonic() - killed < RECOVERY_LIMIT_S, f"{name} was not restarted"
        await asyncio.sleep(0.1)
    return reborn


async def _kill_and_recover(stack: Stack, name: str, counters: Counters, began: float) -> Recovery:
    victim = stack.part(name)
    assert victim is not None, f"no {name} process to kill\n{stack.tail()}"
    killed, killed_wall, in_flight = time.monotonic(), time.time(), counters.in_flight
    victim.send_signal(signal.SIGKILL)
    reborn = await _restarted(stack, name, victim.pid, killed)
    # Measured from the new process: orphaned PostgreSQL backends may answer for a moment.
    restarted = killed + max(0.0, reborn.create_time() - killed_wall)
    ready = await _ready_after(stack.base, restarted)
    while (success := counters.first_success_after(restarted)) is None:
        assert time.monotonic() - killed < RECOVERY_LIMIT_S, f"no command succeeded after {name}"
        await asyncio.sleep(0.2)
    return Recovery(
        part=name,
        at_s=killed - began,
        in_flight=in_flight,
        restarted_s=restarted - killed,
        ready_s=ready - killed,
        first_success_s=success - killed,
        old_pid=victim.pid,
        new_pid=reborn.pid,
    )


@dataclass
class Cue:
    """A step of the workload a fault waits for: `due` tells it to go, `done` that it went."""

    due: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)


async def _faults(
    stack: Stack,
    counters: Counters,
    cues: dict[str, Cue],
    finished: asyncio.Event,
    began: float,
) -> list[Recovery]:
    """Each fault once the workload has done enough commands since the last one healed
    (and, for a cued fault, once its step of the workload is under way)."""
    recoveries = []
    due = counters.commands_done + FIRST_FAULT_AFTER
    for name in FAULTS:
        while counters.commands_done < due:
            assert not finished.is_set(), f"the workload ended before the {name} fault"
            await asyncio.sleep(0.1)
        if cue := cues.get(name):
            cue.due.set()
            await cue.done.wait()
        recoveries.append(await _kill_and_recover(stack, name, counters, began))
        due = counters.commands_done + BETWEEN_FAULTS
    return recoveries


@dataclass
class Outcome:
    """What the workload made and saw."""

    cycles: list[str]
    releases: load.Releases
    sync: JSON
    recoveries: list[Recovery]


async def _run(stack: Stack, setup: load.Setup, feed: load.Feed) -> Outcome:
    counters = Counters()
    client = KeyedClient(stack.base, counters)
    began = time.monotonic()
    stop_feed, finished = asyncio.Event(), asyncio.Event()

    sync_cue = Cue()  # the sync starts just before Temporal is killed: it runs through it

    async def sync_mid_workload() -> JSON:
        await sync_cue.due.wait()
        return await load.checklist_sync(client, started=sync_cue.done)

    async def work() -> tuple[list[str], load.Releases, JSON]:
        try:
            cycles, releases, sync = await asyncio.gather(
                asyncio.gather(*(load.review_cycle(client, n) for n in range(CYCLES))),
                load.release_outcomes(
                    client, setup.elements, singles=SINGLES, batched=BATCHED, lead_s=10
                ),
                sync_mid_workload(),
            )
            return list(cycles), releases, sync
        finally:
            finished.set()

    feeding = asyncio.create_task(load.follow_events(client, feed, stop_feed))
    try:
        (cycles, releases, sync), recoveries = await asyncio.wait_for(
            asyncio.gather(
                work(), _faults(stack, counters, {"temporal": sync_cue}, finished, began)
            ),
            WORKLOAD_LIMIT_S,
        )
        stop_feed.set()
        await asyncio.wait_for(feeding, 60)
    finally:
        feeding.cancel()
        await client.close()
    _print_figures(recoveries, counters, began)
    assert counters.server_errors == [], counters.server_errors
    return Outcome(cycles, releases, sync, recoveries)


def _print_figures(recoveries: list[Recovery], counters: Counters, began: float) -> None:
    figures = "; ".join(
        f"{r.part} killed at {r.at_s:.0f} s ({r.in_flight} requests in flight):"
        f" restarted {r.restarted_s:.1f} s, /readyz 200 {r.ready_s:.1f} s,"
        f" first command {r.first_success_s:.1f} s"
        for r in recoveries
    )
    retried = ", ".join(f"{reason} x{n}" for reason, n in counters.retries.most_common())
    ended = ", ".join(f"{name} {at - began:.0f} s" for name, at in counters.marks.items())
    print(f"\nchaos recovery: {figures or 'no faults'}")
    print(f"chaos workload ended: {ended}")
    print(
        f"chaos clients: {len(counters.attempts)} answers, {counters.commands_done} commands,"
        f" retries: {retried or 'none'}, lost answers: {counters.lost_answers},"
        f" schedules planned again: {counters.rescheduled},"
        f" server errors: {len(counters.server_errors)}"
    )


def test_the_workload_survives_each_part_killed_with_nothing_lost_or_doubled(
    python_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    stack = Stack(tmp_path / "data", python_env, tmp_path / "stack.log")
    up = time.monotonic()
    feed = load.Feed()
    try:
        setup = asyncio.run(_set_up(stack))
        set_up = time.monotonic()
        with capsys.disabled():  # the figures are printed whether or not output is captured
            outcome = asyncio.run(_run(stack, setup, feed))
            print(
                f"chaos phases: stack up {up - began:.0f} s, set-up {set_up - up:.0f} s,"
                f" workload {time.monotonic() - set_up:.0f} s"
            )
        assert [r.part for r in outcome.recoveries] == list(FAULTS)
        assert all(r.in_flight > 0 for r in outcome.recoveries), outcome.recoveries
        engine = make_engine(stack.database_url())
        with engine.connect() as connection:
            _assert_every_case_once(connection, setup, outcome, feed)
        engine.dispose()
        # Temporal agrees: only the never-reviewed sync cases still have a running workflow.
        waiting = {f"application-{case}" for case in setup.sync_applications}
        assert asyncio.run(_running_workflows(stack, expected=waiting)) == waiting
    finally:
        stack.close()


async def _running_workflows(stack: Stack, *, expected: set[str]) -> set[str]:
    """The ids of running workflows, once visibility shows `expected` (or after 30 s)."""
    worker = stack.part("worker")
    assert worker is not None
    client = await Client.connect(worker.environ()["TEMPORAL_ADDRESS"])
    deadline = time.monotonic() + 30
    while True:
        running = {
            execution.id async for execution in client.list_workflows("ExecutionStatus = 'Running'")
        }
        if running == expected or time.monotonic() > deadline:
            return running
        await asyncio.sleep(0.5)


async def _set_up(stack: Stack) -> load.Setup:
    client = KeyedClient(stack.base, Counters())
    try:
        return await load.set_up(client, elements=ELEMENTS, sync_cases=SYNC_CASES)
    finally:
        await client.close()


def _settled(connection: Connection, limit_s: float = 90) -> None:
    """Wait for the SLAs that releases stop (a batch tells each outcome's workflow later)."""
    deadline = time.monotonic() + limit_s
    while census.running_slas(connection):
        assert time.monotonic() < deadline, f"{census.running_slas(connection)} SLAs still running"
        time.sleep(0.5)


CYCLE = census.Cycle(
    status=("COMPLETED", "APPROVED"),
    responses=(("birth_date", 1), ("degree", 1), ("email", 1), ("full_name", 2), ("years", 1)),
    assessments=1,
    assignments=1,
    reviews=("SUBMITTED",),
    review_responses=6,  # five decided, then the changed answer's
    review_decisions=tuple(
        (element, "APPROVE") for element in ("birth_date", "degree", "email", "full_name", "years")
    ),
    audit=(
        "created",
        "submitted",
        "level_reached",
        "self_assigned",
        "review_started",
        "review_submitted",
        "loq_sent",
        "resubmitted",
        "review_restarted",
        "review_submitted",
        "completed",
    ),
    events=(
        "application.submitted",
        "application.loq_sent",
        "application.resubmitted",
        "application.completed",
    ),
    review_events=("review.submitted", "review.submitted"),
)
RELEASE = census.Release(
    status=("RELEASED", "SCHEDULED"),
    audit=(
        "pending_release",
        "release_scheduled",
        "released",
        "sla_start",
        "sla_stop",
        "submitted",
    ),
    events=(
        "result.submitted",
        "result.pending_release",
        "result.release_scheduled",
        "result.released",
    ),
    slas=(("result_complete_to_release", "MET", ("START", "STOP")),),
    element_slas=(("element_scheduled_to_outcome_release", "MET", ("START", "STOP")),),
)
SYNC_CASE = (
    ("checklist_synced", "created", "level_reached", "submitted"),
    ("application.submitted", "assessment.checklist_synced"),
)
ELEMENT = (("sla_start", "sla_stop"), ())
BATCH = (("completed",), ("release_batch.completed",))
SET_UP_AUDIT = 4  # three template versions, one user
SECTIONS = 2


def _expected_totals() -> dict[str, int]:
    results = SINGLES + BATCHED
    return {
        "applications": CYCLES + SYNC_CASES,
        "application_responses": sum(n for _, n in CYCLE.responses) * CYCLES + 5 * SYNC_CASES,
        "assessments": CYCLES + SYNC_CASES,
        "assignments": CYCLES,
        "reviews": CYCLES,
        "review_responses": CYCLE.review_responses * CYCLES,
        "audit_log": len(CYCLE.audit) * CYCLES
        + len(RELEASE.audit) * results
        + len(SYNC_CASE[0]) * SYNC_CASES
        + len(ELEMENT[0]) * ELEMENTS
        + len(BATCH[0])
        + SET_UP_AUDIT,
        "outbox_events": (len(CYCLE.events) + len(CYCLE.review_events)) * CYCLES
        + len(RELEASE.events) * results
        + len(SYNC_CASE[1]) * SYNC_CASES
        + len(BATCH[1]),
        "outcomes": results,
        "release_batches": 1,
        "release_batch_items": BATCHED,
        "sla_instances": results + ELEMENTS,
        "sla_log": 2 * (results + ELEMENTS),  # START and STOP each
        "checklist_syncs": 1,
        "checklist_sync_changes": SECTIONS * SYNC_CASES,
    }


def _assert_every_case_once(
    connection: Connection, setup: load.Setup, outcome: Outcome, feed: load.Feed
) -> None:
    _settled(connection)
    made = outcome.releases
    assert census.cycles(connection, outcome.cycles) == Counter({CYCLE: CYCLES})
    assert census.releases(connection, made.singles) == Counter({RELEASE: SINGLES})
    assert census.releases(connection, made.batched) == Counter({RELEASE: BATCHED})
    assert census.trails(connection, setup.sync_applications) == Counter({SYNC_CASE: SYNC_CASES})
    assert census.trails(connection, setup.elements) == Counter({ELEMENT: ELEMENTS})
    assert census.trails(connection, [made.batch_id or ""]) == Counter({BATCH: 1})
    assert census.totals(connection) == _expected_totals()
    assert census.duplicates(connection) == dict.fromkeys(census.duplicates(connection), 0)
    sync = {k: v for k, v in outcome.sync.items() if k in {"status", "found", "synced", "failed"}}
    assert sync == {"status": "COMPLETED", "found": SYNC_CASES, "synced": SYNC_CASES, "failed": 0}
    assert feed.ids == census.feed_order(connection)  # every event once, in the outbox's order
    positions = [decode(cursor) for cursor in feed.cursors]
    assert positions == sorted(positions)
