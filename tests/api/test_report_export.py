"""`cli.py export-report` writes the same CSV as `GET /v1/reports/{name}?format=csv`."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.outcome_flows import release_now, setup, submit_result
from tests.support.tokens import bearer

ROOT = Path(__file__).resolve().parents[2]
ADMIN = bearer("cli", "admin")


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "cli.py", "export-report", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)


async def test_the_export_is_the_csv_the_api_serves(
    api: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    held = await setup(api, auto_release=False)
    manual = await submit_result(api, held.element_id, "FAIL")
    assert (await release_now(api, "result", manual["id"])).status_code == 200
    await submit_result(api, (await setup(api)).element_id, "PASS")  # AUTOMATIC
    target = tmp_path / "manual.csv"

    run = cli(database_url, "outcome-releases", "--filter", "method=MANUAL", "--out", str(target))

    assert run.returncode == 0, run.stderr
    assert "1 row(s) of outcome-releases" in run.stderr
    served = await api.get("/v1/reports/outcome-releases?method=MANUAL&format=csv", headers=ADMIN)
    assert target.read_bytes().decode() == served.text
    assert manual["id"] in served.text

    to_stdout = cli(database_url, "pass-fail", "--from", "2026-01-01", "--tz", "Europe/London")
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout.startswith("date,kind,passed,failed,void,total,pass_rate")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["grades"], "no report 'grades'"),
        (["sla", "--filter", "method=MANUAL"], "unknown filter"),
        (["outcome-releases", "--filter", "method=SOMETIMES"], "method"),
        (["pass-fail", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["pass-fail", "--from", "2026-11-22", "--to", "2026-11-21"], "after"),
        (["pass-fail", "--to", "9999-12-31"], "must be a date from 1900-01-01 to 9999-12-30"),
        (["sla", "--from", "0001-01-01T00:00:00+14:00"], "must be an instant from 1900-01-01"),
        (["pass-fail", "--from", "2026-01-01T10:00:00"], "timezone info"),
        (["pass-fail", "--filter", "standard=" + "x" * 65], "at most 64 characters"),
        (["sla", "--filter", "subject=a b"], "subject"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(
    database_url: str, args: list[str], complaint: str
) -> None:
    run = cli(database_url, *args)
    assert run.returncode == 2
    assert complaint in run.stderr
