"""`cli.py export-report NAME --json`: the whole report as the API's JSON rows."""

import json
from pathlib import Path

import httpx

from tests.api.outcome_flows import release_now, setup, submit_result
from tests.cli.conftest import Cli
from tests.support.tokens import bearer

ADMIN = bearer("cli", "admin")


async def test_the_json_rows_are_the_rows_the_api_serves(
    api: httpx.AsyncClient, cli: Cli, tmp_path: Path
) -> None:
    held = await setup(api, auto_release=False)
    manual = await submit_result(api, held.element_id, "FAIL")
    assert (await release_now(api, "result", manual["id"])).status_code == 200
    await submit_result(api, (await setup(api)).element_id, "PASS")  # AUTOMATIC
    target = tmp_path / "releases.json"

    every = await cli("export-report", "outcome-releases", "--json", "--out", str(target))
    manual_only = await cli(
        "export-report", "outcome-releases", "--filter", "method=MANUAL", "--json"
    )

    assert every.exit_code == 0, every.output
    assert "2 row(s) of outcome-releases" in every.stderr
    served = await api.get("/v1/reports/outcome-releases?format=json", headers=ADMIN)
    written = json.loads(target.read_text())
    assert written == {"report": "outcome-releases", "items": served.json()["items"]}
    assert manual_only.exit_code == 0, manual_only.output
    [row] = json.loads(manual_only.stdout)["items"]
    assert manual["id"] in row.values()
