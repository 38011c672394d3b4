"""`cli.py release`: release pending outcomes in bulk, now or at an instant, through the
bulk-release workflow the API starts (the same service functions), with its progress."""

import asyncio
import csv
import dataclasses
import io
import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import typer
from pydantic import TypeAdapter
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import Engine
from sqlmodel import Session

from api.services import outcome_release as releases
from core.db import make_engine
from core.settings import get_settings
from domain.access import Principal, Role
from domain.outcome import (
    BATCH_ENDED,
    MAX_BATCH_RELEASE,
    BatchStatus,
    OutcomeKind,
    ReleaseMode,
    check_release_at,
)
from domain.values import Instant
from models.outcome import BatchProgress, OutcomeRef
from operator_cli.output import console, emit_json

POLL_S = 0.3
PAGE = 500
_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)

# The pending list's filters, validated as the route validates them.
_PENDING: TypeAdapter[releases.PendingFilters] = TypeAdapter(releases.PendingFilters)


# The query's names (GET /v1/outcome-releases/pending) for the filters' fields.
_QUERY_NAMES = {"from": "from_at", "to": "to_at"} | {
    field.name: field.name
    for field in dataclasses.fields(releases.PendingFilters)
    if field.name not in {"kind", "from_at", "to_at"}
}


@dataclass(frozen=True)
class Plan:
    """What to release, and when (None: now)."""

    refs: list[OutcomeRef]
    release_at: datetime | None

    @property
    def mode(self) -> ReleaseMode:
        """`now`, or `scheduled` for an instant."""
        return ReleaseMode.NOW if self.release_at is None else ReleaseMode.SCHEDULED

    def words(self) -> str:
        """`now`, or `at <instant>`."""
        return "now" if self.release_at is None else f"at {self.release_at.isoformat()}"


def when(now: bool, at: str | None, *, clock: datetime) -> datetime | None:
    """The instant of `--at` (None for `--now`); exactly one of them must be given."""
    if now == (at is not None):
        raise ValueError("say when: --now or --at INSTANT (one of them)")
    if at is None:
        return None
    instant = _INSTANT.validate_python(at)
    check_release_at(mode=ReleaseMode.SCHEDULED, release_at=instant, now=clock)
    return instant


def refs_from_csv(text: str, kind: OutcomeKind | None) -> list[OutcomeRef]:
    """The outcomes a CSV names: an `id` column (and `kind`, or `--kind` for every row);
    without a header, rows of `id` or `kind,id`. Duplicates count once."""
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError("the CSV names no outcome")
    header = [cell.strip().lower() for cell in rows[0]]
    if "id" in header:
        at_id, at_kind = header.index("id"), header.index("kind") if "kind" in header else None
        rows = rows[1:]
    else:
        at_id, at_kind = (1, 0) if len(rows[0]) > 1 else (0, None)
    refs: dict[tuple[str, str], OutcomeRef] = {}
    for number, row in enumerate(rows, start=2 if "id" in header else 1):
        given = row[at_kind].strip() if at_kind is not None and at_kind < len(row) else None
        if not given and kind is None:
            raise ValueError(f"CSV row {number}: no kind (add a kind column or pass --kind)")
        if at_id >= len(row):
            raise ValueError(f"CSV row {number}: no id")
        ref = OutcomeRef.model_validate({"kind": given or kind, "id": row[at_id].strip()})
        refs[(ref.kind, ref.id)] = ref
    return _bounded(list(refs.values()))


def read_csv(path: str, kind: OutcomeKind | None) -> list[OutcomeRef]:
    """`refs_from_csv` of a file (`-` for standard input)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    return refs_from_csv(text, kind)


def refs_pending(engine: Engine, filters: releases.PendingFilters) -> list[OutcomeRef]:
    """Every outcome the pending list shows with these filters (as GET .../pending)."""
    found: list[OutcomeRef] = []
    cursor: str | None = None
    with Session(engine) as session:
        while True:
            page = releases.pending(session, filters, limit=PAGE, cursor=cursor)
            found += [OutcomeRef(kind=row.kind, id=row.id) for row in page.items]
            if page.next_cursor is None or len(found) > MAX_BATCH_RELEASE:
                break
            cursor = page.next_cursor
    if not found:
        raise ValueError("no pending outcome matches these filters")
    return _bounded(found)


def _bounded(refs: list[OutcomeRef]) -> list[OutcomeRef]:
    if len(refs) > MAX_BATCH_RELEASE:
        raise ValueError(
            f"more than {MAX_BATCH_RELEASE} outcomes: narrow the filters or split the CSV"
        )
    return refs


def _progress(engine: Engine, batch_id: str) -> BatchProgress:
    with Session(engine) as session:
        return releases.batch_progress(session, batch_id)


def settled(progress: BatchProgress, plan: Plan) -> bool:
    """Whether the batch has done all it will do now (a scheduled one: every item waits)."""
    if progress.status in BATCH_ENDED:
        return True
    return plan.release_at is not None and progress.status == BatchStatus.SCHEDULED


async def start(engine: Engine, actor: str, plan: Plan, *, task_queue: str) -> str:
    """Record the batch and start its workflow, as POST /v1/outcome-releases does."""
    from core.temporal import connect

    client = await connect(get_settings())
    who = Principal(sub=actor, roles=frozenset({Role.RELEASER}))
    return await releases.start_batch(
        engine,
        client,
        who,
        plan.refs,
        mode=plan.mode,
        release_at=plan.release_at,
        task_queue=task_queue,
        at=datetime.now(UTC),
    )


async def follow(engine: Engine, batch_id: str, plan: Plan, *, draw: bool) -> BatchProgress:
    """Poll the batch's counts until it has settled, drawing a bar per item state."""
    bars = Progress(
        TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), console=console()
    )
    states = ("released", "scheduled", "skipped")
    tasks = {state: bars.add_task(state, total=len(plan.refs)) for state in states}
    with bars if draw else nullcontext():
        while True:
            progress = await asyncio.to_thread(_progress, engine, batch_id)
            for state, task in tasks.items():
                bars.update(task, completed=getattr(progress, state), total=progress.total)
            if settled(progress, plan):
                return progress
            await asyncio.sleep(POLL_S)


def summary(progress: BatchProgress, plan: Plan) -> str:
    """The last line: what the batch did, and why items were skipped."""
    reasons = ", ".join(f"{count} {why}" for why, count in sorted(progress.skipped_reasons.items()))
    done = (
        f"released {progress.released}"
        if plan.release_at is None
        else f"scheduled {progress.scheduled} for {plan.release_at.isoformat()}"
    )
    skipped = f"skipped {progress.skipped}" + (f" ({reasons})" if reasons else "")
    return (
        f"batch {progress.id} {progress.status}: {done}, {skipped} of {progress.total}; "
        f"details: GET /v1/outcome-releases/batches/{progress.id}"
    )


def dry_run(plan: Plan, *, as_json: bool) -> int:
    """Say what would be released, and release nothing."""
    if as_json:
        emit_json({"would_release": plan.refs, "mode": plan.mode, "release_at": plan.release_at})
    else:
        for ref in plan.refs:
            console().print(f"{ref.kind} {ref.id}")
        typer.echo(f"would release {len(plan.refs)} outcome(s) {plan.words()}; nothing written")
    return 0


def filters_of(kind: OutcomeKind | None, pairs: list[str]) -> releases.PendingFilters:
    """The pending-list filters from `FIELD=VALUE` pairs (the HTTP query's names), each
    checked as the route checks its query parameter."""
    given: dict[str, str] = {}
    for pair in pairs:
        field, sep, value = pair.partition("=")
        if not sep or field not in _QUERY_NAMES:
            raise ValueError(f"not a filter: {pair!r}; the filters are {sorted(_QUERY_NAMES)}")
        given[_QUERY_NAMES[field]] = value
    return _PENDING.validate_python({"kind": kind, **given})


T = TypeVar("T")


def with_engine(url: str, use: Callable[[Engine], T]) -> T:
    """`use` an engine on `url`, disposed after."""
    engine = make_engine(url, pool_size=2)
    try:
        return use(engine)
    finally:
        engine.dispose()


async def run(url: str, plan: Plan, actor: str, *, wait: bool, as_json: bool) -> int:
    """Start the batch, follow it, print what it did (exit 1 when some were skipped)."""
    engine = make_engine(url, pool_size=2)
    try:
        batch_id = await start(engine, actor, plan, task_queue=get_settings().task_queue)
        if not wait:
            if as_json:
                emit_json({"batch_id": batch_id})
            else:
                typer.echo(f"batch {batch_id} started: GET /v1/outcome-releases/batches/{batch_id}")
            return 0
        progress = await follow(engine, batch_id, plan, draw=not as_json)
    finally:
        engine.dispose()
    if as_json:
        emit_json(progress)
    else:
        typer.echo(summary(progress, plan))
    return 0 if progress.skipped == 0 else 1
