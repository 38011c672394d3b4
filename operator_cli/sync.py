"""`cli.py sync`: start a check-list sync, draw every counter as it moves, say what it did
(or, in a dry run, what it would do)."""

import uuid
from contextlib import AbstractContextManager, nullcontext

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from core.settings import get_settings
from operator_cli.output import console, emit_json
from workflows.payloads.checklist_sync import ChecklistSyncProgress, StartChecklistSyncInput

COUNTERS = ("found", "synced", "unchanged", "skipped", "failed")
# What each counter means in a dry run, which writes nothing.
WOULD = {
    "found": "found",
    "synced": "would sync",
    "unchanged": "already current",
    "skipped": "would skip",
    "failed": "failed",
}


def labels(dry_run: bool) -> dict[str, str]:
    """Each counter's words: what happened, or (dry run) what would."""
    return WOULD if dry_run else {name: name for name in COUNTERS}


def summary(result: ChecklistSyncProgress) -> str:
    """The last line: the outcome in words, every counter, where the details are."""
    words = labels(result.dry_run)
    counts = ", ".join(f"{words[name]} {getattr(result, name)}" for name in COUNTERS)
    status = result.status.value
    head = f"dry run {status}, nothing written" if result.dry_run else status
    return f"{head}: {counts}; details: GET /v1/checklist-syncs/{result.sync_id}"


class Bars:
    """One rich bar per counter, each out of the eligible total."""

    def __init__(self, dry_run: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description:>16}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console(),
        )
        self.tasks: dict[str, TaskID] = {
            name: self.progress.add_task(words, total=None)
            for name, words in labels(dry_run).items()
        }

    def draw(self, seen: ChecklistSyncProgress) -> None:
        """Move every bar to the counts the workflow reports."""
        total = max(seen.total, seen.found, 1)
        for name, task in self.tasks.items():
            self.progress.update(task, completed=getattr(seen, name), total=total)


def exit_code(result: ChecklistSyncProgress) -> int:
    """0 when complete with no failures, else 1 (decision 0086)."""
    return 0 if result.status == "COMPLETED" and result.failed == 0 else 1


async def run(template: str | None, dry_run: bool, *, as_json: bool) -> int:
    """Start the sync, draw its progress until it ends, print its counts."""
    from temporalio.client import WorkflowFailureError

    from api.services import checklist_sync as syncs
    from core.temporal import connect

    settings = get_settings()
    if template is not None and settings.database_url:
        _check_published(settings.database_url, template)
    client = await connect(settings)
    sync_id = f"cli-{uuid.uuid4().hex[:12]}"
    start = StartChecklistSyncInput(
        sync_id=sync_id, template_code=template, dry_run=dry_run, actor="cli"
    )
    handle = await syncs.start(client, start, task_queue=settings.task_queue)
    out = console()
    out.print(f"check-list sync {sync_id} started (workflow {handle.id})")
    bars = Bars(dry_run)
    drawing: AbstractContextManager[object] = nullcontext() if as_json else bars.progress
    with drawing:
        try:
            result = await syncs.follow(handle, bars.draw)
        except WorkflowFailureError as error:
            out.print(f"check-list sync {sync_id} FAILED: {error.cause}")
            if as_json:
                emit_json({"sync_id": sync_id, "status": "FAILED", "error": str(error.cause)})
            return 1
        bars.draw(result)
    if as_json:
        emit_json(result)
    else:
        typer.echo(summary(result))
    return exit_code(result)


def _check_published(database_url: str, template: str) -> None:
    """Refuse a template that was never published, as the API does (422 there, 2 here)."""
    from sqlmodel import Session

    from api.services.checklist_sync import check_template
    from core.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    try:
        with Session(engine) as session:
            check_template(session, template)
    finally:
        engine.dispose()
