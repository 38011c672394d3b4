"""`cli.py sync`: a bar per counter, "would ..." on a dry run, JSON, and the exit codes."""

import json

import httpx

from tests.api.test_checklist_sync import _cases
from tests.cli.conftest import Cli, one_line_error

BAR_LABELS = {
    False: ["found", "synced", "unchanged", "skipped", "failed"],
    True: ["found", "would sync", "already current", "would skip", "failed"],
}


async def test_a_dry_run_says_what_it_would_do_and_writes_nothing(
    api: httpx.AsyncClient, cli: Cli
) -> None:
    await _cases(api, 2)

    dry = await cli("sync", "--dry-run")
    as_json = await cli("sync", "--dry-run", "--json")
    real = await cli("sync")
    again = await cli("sync", "--json")

    assert dry.exit_code == 0, dry.output
    last = dry.stdout.strip().splitlines()[-1]
    assert last.startswith("dry run COMPLETED, nothing written: found 2, would sync 2, ")
    assert "synced" not in last
    assert all(label in dry.stderr for label in BAR_LABELS[True])
    assert as_json.exit_code == 0, as_json.output
    counted = json.loads(as_json.stdout)
    assert (counted["dry_run"], counted["found"], counted["synced"]) == (True, 2, 2)
    assert real.exit_code == 0, real.output
    assert "COMPLETED: found 2, synced 2, unchanged 0, skipped 0, failed 0" in real.stdout
    assert all(label in real.stderr for label in BAR_LABELS[False])
    assert (json.loads(again.stdout)["synced"], json.loads(again.stdout)["unchanged"]) == (0, 2)


async def test_a_template_never_published_is_refused(api: httpx.AsyncClient, cli: Cli) -> None:
    result = await cli("sync", "--template", "never-published")

    assert result.exit_code == 2, result.output
    assert "no published template 'never-published'" in one_line_error(result)
