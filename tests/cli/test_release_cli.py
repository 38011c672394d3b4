"""`cli.py release`: bulk, from a CSV of ids or the pending-list filters, now or at an
instant, through the bulk-release workflow, with its progress and a summary."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.outcome import OutcomeStatus
from models.outcome import Outcome, ReleaseBatch
from tests.api.outcome_flows import setup, submit_result
from tests.cli.conftest import Cli, one_line_error
from tests.support.outcome_seed import seed_pending_results


def _statuses(db: Engine, ids: list[str]) -> dict[str, str]:
    with Session(db) as session:
        rows = session.exec(select(Outcome.id, Outcome.status).where(col(Outcome.id).in_(ids)))
        return {outcome_id: str(status) for outcome_id, status in rows}


async def test_a_csv_of_ids_is_released_now_by_the_batch(
    api: httpx.AsyncClient, db: Engine, cli: Cli, tmp_path: Path
) -> None:
    records = await setup(api, auto_release=False)
    ids = seed_pending_results(db, records.candidate_id, records.element_id, 3)
    voided = await submit_result(api, records.element_id, "VOID")  # released at once
    listed = tmp_path / "ids.csv"
    listed.write_text("kind,id\n" + "".join(f"result,{i}\n" for i in [*ids, voided["id"]]))

    result = await cli("release", "--ids", str(listed), "--now")

    assert result.exit_code == 1, result.output  # one was skipped
    last = result.stdout.strip().splitlines()[-1]
    assert " COMPLETED: released 3, skipped 1 (1 voided) of 4; details: " in last
    assert set(_statuses(db, ids).values()) == {OutcomeStatus.RELEASED}
    assert all(state in result.stderr for state in ("released", "scheduled", "skipped"))
    with Session(db) as session:
        batch = session.exec(select(ReleaseBatch)).one()
    assert (batch.requested_by, batch.total) == ("cli", 4)


async def test_the_pending_filters_schedule_at_an_instant(
    api: httpx.AsyncClient, db: Engine, cli: Cli
) -> None:
    mine = await setup(api, auto_release=False)
    other = await setup(api, auto_release=False)
    ids = seed_pending_results(db, mine.candidate_id, mine.element_id, 2)
    left = seed_pending_results(db, other.candidate_id, other.element_id, 1)
    at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    filters = ["--filter", f"provider_id={mine.provider_id}", "--kind", "result"]

    dry = await cli("release", *filters, "--at", at.isoformat(), "--dry-run", "--json")
    scheduled = await cli("release", *filters, "--at", at.isoformat(), "--json")

    assert dry.exit_code == 0, dry.output
    assert sorted(ref["id"] for ref in json.loads(dry.stdout)["would_release"]) == sorted(ids)
    assert scheduled.exit_code == 0, scheduled.output
    progress = json.loads(scheduled.stdout)
    assert (progress["status"], progress["scheduled"], progress["total"]) == ("SCHEDULED", 2, 2)
    with Session(db) as session:
        rows = session.exec(select(Outcome).where(col(Outcome.id).in_(ids + left))).all()
    when = {row.id: row.scheduled_release_at for row in rows}
    assert {when[i] for i in ids} == {at}
    assert when[left[0]] is None
    assert set(_statuses(db, ids + left).values()) == {OutcomeStatus.PENDING_RELEASE}


async def test_a_dry_run_lists_and_writes_nothing(
    api: httpx.AsyncClient, db: Engine, cli: Cli
) -> None:
    records = await setup(api, auto_release=False)
    ids = seed_pending_results(db, records.candidate_id, records.element_id, 2)

    only = f"candidate_id={records.candidate_id}"
    result = await cli("release", "--filter", only, "--filter", "cohort=2026", "--now", "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "would release 2 outcome(s) now; nothing written"
    assert all(f"result {i}" in result.stderr for i in ids)
    assert set(_statuses(db, ids).values()) == {OutcomeStatus.PENDING_RELEASE}
    with Session(db) as session:
        assert session.exec(select(ReleaseBatch)).all() == []


async def test_nothing_matching_or_a_bad_csv_row_exits_2(
    api: httpx.AsyncClient, cli: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id\nok-1\nnot an id\n")
    kindless = tmp_path / "kindless.csv"
    kindless.write_text("id\nok-1\n")

    nothing = await cli("release", "--filter", "cohort=nobody", "--now")
    refused = await cli("release", "--ids", str(bad), "--kind", "result", "--now")
    no_kind = await cli("release", "--ids", str(kindless), "--now")

    assert (nothing.exit_code, refused.exit_code, no_kind.exit_code) == (2, 2, 2)
    assert "no pending outcome matches these filters" in one_line_error(nothing)
    assert "id" in one_line_error(refused)
    assert "CSV row 2: no kind" in one_line_error(no_kind)
